"""The case's week: rule 1 for cancelled steps, corrections, consent per guardian, pauses."""

from datetime import date

import pytest

from essence.adapters.pathway_files import default_template
from essence.domain.calendar import at_local
from essence.domain.case import Case, Consent
from essence.domain.errors import ConsentMissing, IllegalTransition, InvalidInput
from essence.domain.personnummer import synthetic_personnummer
from essence.domain.states import CaseState, StepState
from tests.factories import new_case

DAY = date(2026, 3, 2)
NOW = at_local(DAY, 10)


def test_the_default_pathway_marks_which_steps_may_be_skipped() -> None:
    fixed = {s.key for s in default_template().steps if not s.skippable}
    assert fixed == {"intake", "team_conference", "feedback_meeting", "written_report"}


def test_a_cancelled_step_satisfies_successors_only_after_its_own_prerequisites() -> None:
    case = new_case()
    assert case.cancel_step("medical_exam", NOW, "done elsewhere") == []
    assert case.steps["cognitive_test"].state is StepState.REQUESTED
    released = case.complete_step("intake", NOW, "coord-1")
    assert {"cognitive_test", "autism_observation"} <= set(released)


def test_steps_every_assessment_needs_cannot_be_cancelled() -> None:
    case = new_case()
    with pytest.raises(IllegalTransition, match="withdraw the case instead"):
        case.cancel_step("team_conference", NOW, "x")


def test_nothing_is_cancelled_before_consent() -> None:
    case = new_case(consenting=0)
    with pytest.raises(ConsentMissing):
        case.cancel_step("motor_assessment", NOW, "x")
    case.record_consent(2, DAY)
    assert case.steps["intake"].state is StepState.READY


def test_reverting_sends_unstarted_successors_back_and_flags_started_ones() -> None:
    case = new_case()
    case.complete_step("intake", NOW, "coord-1")
    case.start_step("language_assessment", NOW)
    result = case.revert_step("intake", NOW, "entered on the wrong child")
    assert result.state == "ready"
    assert "medical_exam" in result.back_to_requested
    assert result.needs_review == ["language_assessment"]
    assert case.steps["medical_exam"].state is StepState.REQUESTED
    assert case.steps["language_assessment"].needs_review


def test_a_flagged_step_cannot_finish_before_its_reverted_prerequisite_is_done_again() -> None:
    case = new_case()
    case.complete_step("intake", NOW, "coord-1")
    case.start_step("language_assessment", NOW)
    case.revert_step("intake", NOW, "entered on the wrong child")
    with pytest.raises(IllegalTransition, match="prerequisite was corrected"):
        case.complete_step("language_assessment", NOW, "slp-1")
    assert case.steps["language_assessment"].state is StepState.IN_PROGRESS
    case.complete_step("intake", NOW, "coord-1")
    case.complete_step("language_assessment", NOW, "slp-1")
    assert case.steps["language_assessment"].state is StepState.COMPLETED


def test_reverting_the_feedback_returns_the_case_to_assessing() -> None:
    case = new_case()
    for key in case.template.topological_order():
        if key in ("written_report", "network_meeting"):
            continue
        case.complete_step(key, NOW, "x")
    assert case.state is CaseState.FEEDBACK_GIVEN
    case.revert_step("feedback_meeting", NOW, "not held")
    assert case.state is CaseState.ASSESSING
    assert case.steps["feedback_meeting"].state is StepState.READY
    assert case.steps["written_report"].state is StepState.READY, "its conference still holds"


def test_only_completions_and_cancellations_can_be_reverted() -> None:
    case = new_case()
    with pytest.raises(IllegalTransition):
        case.revert_step("intake", NOW, "x")
    case.complete_step("intake", NOW, "x")
    with pytest.raises(InvalidInput):
        case.revert_step("intake", NOW, " ")


def test_a_withdrawn_consent_pauses_and_a_new_one_resumes() -> None:
    case = new_case()
    case.complete_step("intake", NOW, "x")
    assert case.record_guardian_consent(2, False, DAY, "coord-1") == "paused"
    assert case.state is CaseState.PAUSED and case.consent.describe() == "1 of 2"
    with pytest.raises(ConsentMissing, match="1 of 2"):
        case.start_step("medical_exam", NOW)
    assert case.record_guardian_consent(2, True, DAY, "coord-1") == "resumed"
    assert case.state is CaseState.ASSESSING
    case.start_step("medical_exam", NOW)


def test_the_consenting_shorthand_withdraws_the_guardians_it_leaves_out() -> None:
    case = new_case()
    assert case.record_consent(1, DAY) == "paused"
    assert case.consent.records[2].given is False


def test_sole_custody_takes_one_guardian_and_refuses_a_second() -> None:
    case = new_case(consenting=0)
    with pytest.raises(InvalidInput, match="sole custody"):
        case.record_guardian_consent(2, True, DAY, guardians=1)
    assert case.record_guardian_consent(1, True, DAY, guardians=1) == "consented"
    assert case.consent_covers("preschool_observation")


def test_a_child_must_be_0_to_17_years_old_at_referral() -> None:
    with pytest.raises(InvalidInput, match="0–17"):
        Case.open(
            case_id="c-old", personnummer=synthetic_personnummer(date(1899, 5, 1), 123),
            child_name="Testa", municipality="Umeå", referring_unit="BHV",
            referral_date=DAY, template=default_template(),
            consent=Consent.given_by(2, 2, DAY), now=NOW,
        )  # fmt: skip


def test_a_no_show_is_counted_and_the_step_stays_open() -> None:
    case = new_case()
    case.steps["intake"].planned_on = DAY
    step = case.record_no_show("intake")
    assert step.no_shows == 1 and step.state is StepState.READY and step.planned_on is None
