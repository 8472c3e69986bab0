"""Use cases against a real database (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from essence.domain.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from essence.services import cases, reporting, steps, sweep
from essence.services.context import ServiceContext
from tests.factories import FixedClock, referral


def _count(ctx: ServiceContext, table: str) -> int:
    with ctx.uow_factory() as uow:
        return uow.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # type: ignore[attr-defined]


def test_opening_a_case_assigns_every_profession_and_audits_it(app_context: ServiceContext) -> None:
    view = cases.open_case(app_context, referral())
    assert view.state == "consented"
    assert view.personnummer.endswith("-****")
    assigned = {p for s in view.steps for p in s.assignees}
    assert assigned == {
        "coordinator", "psychologist", "physician", "speech_therapist",
        "physiotherapist", "bhv_nurse", "habilitation",
    }  # fmt: skip
    psychologists = {
        s.assignees["psychologist"] for s in view.steps if "psychologist" in s.assignees
    }
    assert len(psychologists) == 1, "one psychologist per child (continuity)"
    assert [line.action for line in reporting.audit_extract(app_context, view.id)] == ["case.open"]


def test_automatic_assignment_spreads_children_over_the_psychologists(
    app_context: ServiceContext,
) -> None:
    chosen = []
    for _ in range(3):
        view = cases.open_case(app_context, referral())
        chosen.append(
            next(s.assignees["psychologist"] for s in view.steps if s.key == "cognitive_test")
        )
    assert sorted(chosen) == ["psy-1", "psy-2", "psy-3"]


def test_an_explicit_assignment_wins(app_context: ServiceContext) -> None:
    from essence.domain.professions import Profession

    view = cases.open_case(app_context, referral(assign={Profession.PSYCHOLOGIST: "psy-3"}))
    assert {s.assignees.get("psychologist") for s in view.steps} - {None} == {"psy-3"}


def test_a_clinician_works_the_steps_on_their_worklist(
    app_context: ServiceContext, clock: FixedClock
) -> None:
    case_id = cases.open_case(app_context, referral()).id
    steps.complete_step(app_context, case_id, "intake", "met both guardians")
    physician = app_context.as_user("md-1")
    assert [(w.case_id, w.step_key) for w in steps.worklist(physician)] == [
        (case_id, "medical_exam")
    ]
    steps.start_step(physician, case_id, "medical_exam")
    change = steps.complete_step(physician, case_id, "medical_exam", "no findings")
    assert set(change.newly_ready) == {"cognitive_test", "autism_observation"}
    shown = cases.show_case(physician, case_id)
    assert shown.steps[4].outcome == "no findings"


def test_clinicians_outside_the_case_are_refused_and_the_refusal_is_logged(
    app_context: ServiceContext,
) -> None:
    case_id = cases.open_case(app_context, referral()).id
    outsider = next(
        p for p in ("psy-1", "psy-2", "psy-3") if p not in _participants(app_context, case_id)
    )
    with pytest.raises(PermissionDenied):
        cases.show_case(app_context.as_user(outsider), case_id)
    with pytest.raises(PermissionDenied):
        reporting.report(app_context.as_user("md-1"))
    lines = reporting.audit_extract(app_context, case_id)
    assert ("case.show", outsider, "denied") in [(x.action, x.user_id, x.outcome) for x in lines]


def _participants(ctx: ServiceContext, case_id: str) -> set[str]:
    return {c for s in cases.show_case(ctx, case_id).steps for c in s.assignees.values()}


def test_a_planner_gets_aggregates_without_case_lines(app_context: ServiceContext) -> None:
    for _ in range(6):
        cases.open_case(app_context, referral())
    planner_view = reporting.report(app_context.as_user("planner-1"))
    assert planner_view.cases == []
    assert planner_view.cohort.cases == 6
    coordinator_view = reporting.report(app_context)
    assert len(coordinator_view.cases) == 6


def test_a_failed_command_writes_nothing(app_context: ServiceContext) -> None:
    case_id = cases.open_case(app_context, referral()).id
    before = (_count(app_context, "essence_case"), _count(app_context, "audit_event"))
    with pytest.raises(IllegalTransition):
        steps.complete_step(app_context, case_id, "feedback_meeting")
    with pytest.raises(InvalidInput):
        cases.open_case(app_context, referral(municipality="Atlantis"))
    with pytest.raises(NotFound):
        steps.complete_step(app_context, "c-nope", "intake")
    assert (_count(app_context, "essence_case"), _count(app_context, "audit_event")) == before
    assert cases.show_case(app_context, case_id).steps[-3].state == "requested"


def test_a_duplicate_open_case_for_the_same_child_is_refused(app_context: ServiceContext) -> None:
    first = referral()
    cases.open_case(app_context, first)
    with pytest.raises(InvalidInput, match="already has open case"):
        cases.open_case(app_context, first)


def test_the_sweep_completes_waits_and_flags_overdue_steps(
    app_context: ServiceContext, clock: FixedClock
) -> None:
    case_id = cases.open_case(app_context, referral()).id
    steps.complete_step(app_context, case_id, "intake")
    clock.set(date(2026, 3, 2) + timedelta(days=20))
    result = sweep.daily_sweep(app_context)
    assert result.waiting_steps_completed == 1
    assert {o.step_key for o in result.overdue_steps} >= {"medical_exam", "bhv_records"}
    clock.set(date(2026, 3, 2) + timedelta(days=100))
    assert [c.case_id for c in sweep.daily_sweep(app_context).at_risk_90] == [case_id]


def test_the_audit_log_refuses_updates_and_deletes(app_context: ServiceContext) -> None:
    cases.open_case(app_context, referral())
    with app_context.uow_factory() as uow:
        session = uow.session  # type: ignore[attr-defined]
        with pytest.raises(Exception, match="append-only"):
            session.execute(text("UPDATE audit_event SET outcome = 'forged'"))
            session.flush()
    with app_context.uow_factory() as uow, pytest.raises(Exception, match="append-only"):
        uow.session.execute(text("DELETE FROM audit_event"))  # type: ignore[attr-defined]
