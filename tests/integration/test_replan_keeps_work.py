"""Re-planning without losing work: the solver runs outside any transaction on a snapshot,
only changed cases are written (each with its version check), a case changed while the
solver ran is re-planned alone, and saving an unchanged case keeps its version."""

from __future__ import annotations

import pytest

from essence.scheduling import clinic_planner
from essence.services import cases, scheduling, steps
from essence.services.context import ServiceContext
from tests.factories import referral


def _version(ctx: ServiceContext, case_id: str) -> int:
    return cases.run_use_case(ctx, "test.version", lambda uow, _u: uow.cases.get(case_id).version)


def test_saving_an_unchanged_case_keeps_its_version(app_context: ServiceContext) -> None:
    case_id = cases.open_case(app_context, referral()).id
    before = _version(app_context, case_id)

    def save_unchanged(uow, _user):  # type: ignore[no-untyped-def]
        case = uow.cases.get(case_id)
        uow.cases.save(case)
        uow.commit()
        return case.version

    assert cases.run_use_case(app_context, "test.save", save_unchanged) == before
    assert _version(app_context, case_id) == before


def test_a_second_identical_plan_writes_nothing(app_context: ServiceContext) -> None:
    ids = [cases.open_case(app_context, referral()).id for _ in range(2)]
    first = scheduling.plan_schedule(app_context, use_cpsat=False)
    assert first.cases_written == 2
    versions = {i: _version(app_context, i) for i in ids}
    again = scheduling.plan_schedule(app_context, use_cpsat=False)
    assert again.cases_written == 0 and again.replanned_alone == []
    assert {i: _version(app_context, i) for i in ids} == versions


def test_a_case_changed_while_the_solver_runs_is_replanned_alone(
    app_context: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy, quiet = (cases.open_case(app_context, referral()).id for _ in range(2))
    real_plan = clinic_planner.plan_clinic
    calls: list[int] = []

    def plan_while_a_clinician_works(*args, **kwargs):  # type: ignore[no-untyped-def]
        plan = real_plan(*args, **kwargs)
        if not calls:  # a coordinator completes the intake during the first (slow) solve
            steps.complete_step(app_context, busy, "intake", "held")
        calls.append(1)
        return plan

    monkeypatch.setattr(scheduling, "plan_clinic", plan_while_a_clinician_works)
    view = scheduling.plan_schedule(app_context, use_cpsat=False)
    assert view.replanned_alone == [busy]
    assert len(calls) == 2, "the whole plan is not solved again, only the changed case"
    booked = {
        (a.case_id, a.step_key)
        for a in scheduling.show_schedule(app_context, week=None, case_id=busy)
    }
    assert (busy, "intake") not in booked, "the completed intake gets no booking"
    assert (busy, "medical_exam") in booked, "its newly ready steps are planned"
    assert scheduling.show_schedule(app_context, case_id=quiet), "the other case is booked"
    shown = cases.show_case(app_context, busy)
    assert next(s for s in shown.steps if s.key == "intake").state == "completed"


def _booked_in_database(ctx: ServiceContext, case_id: str) -> set[tuple[str, str, str]]:
    return {
        (a.step_key, a.day.isoformat(), a.start)
        for a in scheduling.show_schedule(ctx, case_id=case_id)
    }


def _booked_in_view(view: scheduling.PlanView, case_id: str) -> set[tuple[str, str, str]]:
    return {
        (a.step_key, a.day.isoformat(), a.start) for a in view.appointments if a.case_id == case_id
    }


def test_a_kept_case_changed_while_the_solver_runs_is_shown_as_written(
    app_context: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second plan keeps every booking, so it does not write the cases; a clinician
    completing a booked step meanwhile must still not leave the view showing that step
    booked (the first release printed the old plan, with nothing re-planned)."""
    busy, quiet = (cases.open_case(app_context, referral()).id for _ in range(2))
    scheduling.plan_schedule(app_context, use_cpsat=False)
    assert "intake" in {key for key, _day, _start in _booked_in_database(app_context, busy)}
    real_plan = clinic_planner.plan_clinic
    calls: list[int] = []

    def plan_while_a_clinician_works(*args, **kwargs):  # type: ignore[no-untyped-def]
        plan = real_plan(*args, **kwargs)
        if not calls:
            steps.start_step(app_context, busy, "intake")
            steps.complete_step(app_context, busy, "intake", "held")
        calls.append(1)
        return plan

    monkeypatch.setattr(scheduling, "plan_clinic", plan_while_a_clinician_works)
    view = scheduling.plan_schedule(app_context, use_cpsat=False)
    assert view.replanned_alone == [busy] and view.not_replanned == []
    assert view.cases_written == 1
    assert len(calls) == 2
    shown = _booked_in_view(view, busy)
    assert "intake" not in {key for key, _day, _start in shown}
    assert shown == _booked_in_database(app_context, busy), "the view is what was booked"
    assert _booked_in_view(view, quiet) == _booked_in_database(app_context, quiet)
    assert not [u for u in view.not_scheduled_yet if u["case_id"] == busy and u["step"] == "intake"]


def test_a_case_paused_while_the_solver_runs_leaves_the_plan(
    app_context: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guardian withdraws consent during the solve: the case is paused, its bookings
    released, and the view shows none of them (nor its figures)."""
    withdrawn, quiet = (cases.open_case(app_context, referral()).id for _ in range(2))
    real_plan = clinic_planner.plan_clinic

    def plan_while_consent_is_withdrawn(*args, **kwargs):  # type: ignore[no-untyped-def]
        plan = real_plan(*args, **kwargs)
        cases.record_guardian_consent(app_context, withdrawn, 2, given=False)
        return plan

    monkeypatch.setattr(scheduling, "plan_clinic", plan_while_consent_is_withdrawn)
    view = scheduling.plan_schedule(app_context, use_cpsat=False)
    assert view.not_replanned == [withdrawn] and view.replanned_alone == []
    assert not _booked_in_view(view, withdrawn)
    assert not [c for c in view.cases if c["case_id"] == withdrawn]
    assert not _booked_in_database(app_context, withdrawn)
    assert _booked_in_view(view, quiet) == _booked_in_database(app_context, quiet)


def test_a_case_planned_around_a_stale_cases_moved_booking_is_left_alone_too(
    app_context: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan re-times a booking of case A (its intake started) to fit a new case B;
    A's intake is completed during the solve, so A is not written and keeps its booking,
    and B's plan, built on A's move, would double-book the speech therapist. B is left
    alone too and re-planned around what A really holds (found by the state machine)."""
    first = cases.open_case(app_context, referral()).id
    scheduling.plan_schedule(app_context, use_cpsat=False, workers=1, deterministic=True)
    steps.start_step(app_context, first, "intake")
    second = cases.open_case(app_context, referral(guardians=1, consenting=1)).id
    real_plan = clinic_planner.plan_clinic
    calls: list[int] = []

    def plan_while_the_intake_ends(*args, **kwargs):  # type: ignore[no-untyped-def]
        plan = real_plan(*args, **kwargs)
        if not calls:
            steps.complete_step(app_context, first, "intake", "held")
        calls.append(1)
        return plan

    monkeypatch.setattr(scheduling, "plan_clinic", plan_while_the_intake_ends)
    view = scheduling.plan_schedule(app_context, use_cpsat=False, workers=1, deterministic=True)
    assert first in view.replanned_alone
    booked = [
        a
        for case_id in (first, second)
        for a in scheduling.show_schedule(app_context, case_id=case_id)
    ]
    for i, one in enumerate(booked):
        for other in booked[i + 1 :]:
            shared = set(one.clinicians) & set(other.clinicians)
            overlap = one.day == other.day and one.start < other.end and other.start < one.end
            assert not (shared and overlap), (one.step_key, other.step_key, shared)
    shown = {(a.case_id, a.step_key, a.day, a.start) for a in view.appointments}
    assert shown == {(a.case_id, a.step_key, a.day, a.start) for a in booked}
