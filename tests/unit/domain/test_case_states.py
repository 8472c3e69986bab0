"""The case aggregate: consent, readiness, waiting steps and both state machines."""

from datetime import date, timedelta

import pytest

from essence.domain.calendar import at_local
from essence.domain.case import Case
from essence.domain.errors import ConsentMissing, IllegalTransition, InvalidInput
from essence.domain.states import CaseState, StepState
from tests.factories import new_case

DAY = date(2026, 3, 2)


def test_with_consent_only_the_intake_is_ready() -> None:
    case = new_case()
    assert case.state is CaseState.CONSENTED
    assert [s.key for s in case.ready_steps()] == ["intake"]
    assert all(s.state is StepState.REQUESTED for k, s in case.steps.items() if k != "intake")


def test_no_step_starts_without_both_guardians_consent() -> None:
    case = new_case(consenting=1)
    assert case.state is CaseState.REFERRED
    with pytest.raises(ConsentMissing):
        case.start_step("intake", at_local(DAY))
    case.record_consent(2, DAY)
    case.start_step("intake", at_local(DAY))
    assert case.state is CaseState.ASSESSING


def test_completing_intake_makes_its_successors_ready() -> None:
    case = new_case()
    ready = case.complete_step("intake", at_local(DAY), "coord-1", "both guardians met")
    assert set(ready) == {
        "questionnaires",
        "bhv_records",
        "preschool_observation",
        "medical_exam",
        "language_assessment",
        "motor_assessment",
    }
    assert case.steps["questionnaires"].due_on == DAY + timedelta(days=14)


def test_the_questionnaire_wait_completes_by_itself_after_14_days() -> None:
    case = new_case()
    case.complete_step("intake", at_local(DAY), "coord-1")
    assert case.advance(DAY + timedelta(days=13)) == []
    assert case.advance(DAY + timedelta(days=14)) == ["questionnaires"]
    assert case.steps["parent_interview"].state is StepState.READY


def test_completing_a_step_that_is_not_ready_is_illegal() -> None:
    case = new_case()
    with pytest.raises(IllegalTransition, match="medical_exam: cannot go from requested"):
        case.complete_step("medical_exam", at_local(DAY), "md-1")


def test_completing_twice_is_illegal() -> None:
    case = new_case()
    case.complete_step("intake", at_local(DAY), "coord-1")
    with pytest.raises(IllegalTransition, match="already completed"):
        case.complete_step("intake", at_local(DAY), "coord-1")


def test_hold_needs_a_reason_and_resume_returns_to_the_previous_state() -> None:
    case = new_case()
    case.start_step("intake", at_local(DAY))
    with pytest.raises(InvalidInput, match="reason"):
        case.hold_step("intake", "  ")
    case.hold_step("intake", "guardian ill")
    assert case.steps["intake"].state is StepState.ON_HOLD
    case.resume_step("intake")
    assert case.steps["intake"].state is StepState.IN_PROGRESS


def test_the_feedback_meeting_moves_the_case_and_the_last_step_closes_it() -> None:
    case = new_case()
    day = DAY
    states = []
    while case.state.is_open and day < DAY + timedelta(days=120):
        case.advance(day)
        for step in case.ready_steps():
            if not case.definition(step.key).is_waiting:
                case.complete_step(step.key, at_local(day), "tester")
                states.append((step.key, case.state))
        day += timedelta(days=1)
    assert ("feedback_meeting", CaseState.FEEDBACK_GIVEN) in states
    assert case.state is CaseState.CLOSED
    assert all(s.state is StepState.COMPLETED for s in case.steps.values())


def test_cancelling_a_step_releases_the_steps_that_wait_for_it() -> None:
    case = new_case()
    case.complete_step("intake", at_local(DAY), "coord-1")
    released = case.cancel_step("bhv_records", at_local(DAY), "records already at hand")
    assert released == []
    assert case.steps["bhv_records"].state is StepState.CANCELLED
    with pytest.raises(IllegalTransition):
        case.cancel_step("feedback_meeting", at_local(DAY), "no")


def test_withdrawing_cancels_open_steps_and_blocks_further_work() -> None:
    case = new_case()
    case.withdraw("family moved abroad", at_local(DAY))
    assert case.state is CaseState.WITHDRAWN
    assert all(s.state is StepState.CANCELLED for s in case.steps.values())
    with pytest.raises(IllegalTransition):
        case.withdraw("again", at_local(DAY))


def test_a_referral_date_in_the_future_is_rejected() -> None:
    fresh = new_case()
    with pytest.raises(InvalidInput, match="referral date: 2026-03-03: lies in the future"):
        Case.open(
            case_id="c-x",
            personnummer=fresh.personnummer,
            child_name="X",
            municipality="Umeå",
            referring_unit="BHV",
            referral_date=DAY + timedelta(days=1),
            template=fresh.template,
            consent=fresh.consent,
            now=at_local(DAY),
        )
