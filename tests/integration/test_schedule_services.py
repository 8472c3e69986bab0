"""The combined scheduler on the engine: booking, re-planning, calendars, letters."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from essence.domain.calendar import add_working_days
from essence.domain.errors import InvalidInput, NotFound, PermissionDenied
from essence.domain.team import Absence
from essence.services import cases, scheduling, steps, team
from essence.services.context import ServiceContext
from tests.factories import FixedClock, referral


def _open_three(ctx: ServiceContext) -> list[str]:
    homes = ("Umeå", "Vännäs", "Skellefteå")
    return [cases.open_case(ctx, referral(municipality=m)).id for m in homes]


def test_booking_a_plan_gives_every_step_a_day_place_and_clinicians(
    app_context: ServiceContext,
) -> None:
    ids = _open_three(app_context)
    plan = scheduling.plan_schedule(app_context, budget_s=3, workers=1)
    assert plan.booked and plan.status in ("OPTIMAL", "FEASIBLE")
    assert {c["case_id"] for c in plan.cases} == set(ids)
    assert all(c["feedback_date"] for c in plan.cases), plan.not_scheduled_yet
    shown = cases.show_case(app_context, ids[0])
    planned = {s.key: s.planned_on for s in shown.steps}
    assert planned["intake"] is not None and planned["feedback_meeting"] > planned["intake"]
    ados = next(
        a for a in plan.appointments if a.step_key == "autism_observation" and a.case_id == ids[0]
    )
    assert len(ados.clinicians) == 2, "the joint step books both professions in one slot"
    assert shown.steps[7].assignees == dict(
        zip(["psychologist", "speech_therapist"], ados.clinicians, strict=True)
    )


def test_a_second_plan_keeps_every_booking(app_context: ServiceContext) -> None:
    _open_three(app_context)
    first = scheduling.plan_schedule(app_context, budget_s=2, workers=1)
    again = scheduling.plan_schedule(app_context, budget_s=2, workers=1)
    assert again.moved == 0
    key = lambda p: sorted((a.case_id, a.step_key, a.day, a.start) for a in p.appointments)  # noqa: E731
    assert key(first) == key(again)


def test_a_new_referral_is_inserted_without_moving_booked_appointments(
    app_context: ServiceContext,
) -> None:
    _open_three(app_context)
    first = scheduling.plan_schedule(app_context, budget_s=2, workers=1)
    newcomer = cases.open_case(app_context, referral(municipality="Lycksele")).id
    second = scheduling.plan_schedule(app_context, budget_s=2, workers=1)
    before = {(a.case_id, a.step_key): (a.day, a.start) for a in first.appointments}
    after = {(a.case_id, a.step_key): (a.day, a.start) for a in second.appointments}
    assert {k: after.get(k) for k in before if after.get(k) != before[k]} == {}
    assert any(case_id == newcomer for case_id, _ in after)


def test_an_absence_moves_the_absent_clinicians_bookings_out_of_it(
    app_context: ServiceContext, clock: FixedClock
) -> None:
    """Recording the absence releases the bookings it hits beyond the frozen window at
    once (same transaction); the next plan books them on other days."""
    ids = _open_three(app_context)
    scheduling.plan_schedule(app_context, budget_s=2, workers=1)
    booked = scheduling.show_schedule(app_context, clinician_id="md-1")
    later = [a for a in booked if a.day > clock.now.date() + timedelta(days=14)]
    if not later:
        pytest.skip("no physician booking beyond the frozen window in this plan")
    away = Absence(later[0].day, later[0].day + timedelta(days=6), "course")
    hit = {f"{a.case_id}/{a.step_key}" for a in later if away.covers(a.day)}
    view = team.add_absence(app_context, "md-1", away)
    assert set(view.released) == hit and view.kept_frozen == []
    for appointment in scheduling.show_schedule(app_context, clinician_id="md-1"):
        assert not away.covers(appointment.day), "released with the absence, before any plan"
    released_case, released_step = view.released[0].split("/")
    shown = cases.show_case(app_context, released_case)
    assert next(s for s in shown.steps if s.key == released_step).planned_on is None
    scheduling.plan_schedule(app_context, budget_s=2, workers=1)
    for appointment in scheduling.show_schedule(app_context, clinician_id="md-1"):
        assert not away.covers(appointment.day)
    assert ids


def test_an_absence_keeps_the_bookings_of_the_frozen_window_and_says_so(
    app_context: ServiceContext, clock: FixedClock
) -> None:
    """A sick call for a day of the frozen window: the families have been told, so the
    booking stays and the result names it for the coordinator to arrange cover."""
    _open_three(app_context)
    plan = scheduling.plan_schedule(app_context, budget_s=2, workers=1)
    first = min(plan.appointments, key=lambda a: (a.day, a.start))
    clock.set(first.day - timedelta(days=1))  # days pass: the first visit is tomorrow
    assert first.day < add_working_days(clock.now.date(), 5), "inside the frozen window"
    clinician_id = first.clinicians[0]
    view = team.add_absence(app_context, clinician_id, Absence(first.day, first.day, "sick"))
    assert f"{first.case_id}/{first.step_key}" in view.kept_frozen
    assert view.released == []
    still = scheduling.show_schedule(app_context, clinician_id=clinician_id)
    assert any(a.step_key == first.step_key and a.day == first.day for a in still)


def test_holidays_are_never_booked(app_context: ServiceContext, clock: FixedClock) -> None:
    clock.set(date(2026, 12, 14))
    for _ in range(3):
        cases.open_case(app_context, referral(referral_date=date(2026, 12, 14)))
    plan = scheduling.plan_schedule(app_context, budget_s=2, workers=1)
    days = {a.day for a in plan.appointments}
    assert not days & {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 31), date(2027, 1, 1)}
    assert all(d.weekday() < 5 for d in days)


def test_calendars_letters_and_permissions(app_context: ServiceContext) -> None:
    ids = _open_three(app_context)
    scheduling.plan_schedule(app_context, budget_s=2, workers=1)
    ics = scheduling.clinician_calendar(app_context.as_user("psy-1"), "psy-1")
    assert ics.startswith("BEGIN:VCALENDAR") and "Europe/Stockholm" in ics
    with pytest.raises(PermissionDenied):
        scheduling.clinician_calendar(app_context.as_user("psy-1"), "psy-2")
    letter, family = scheduling.family_documents(app_context, ids[0])
    assert "Testa" in letter and "-****" not in letter
    assert "BEGIN:VEVENT" in family
    with pytest.raises(NotFound):
        scheduling.show_schedule(app_context, clinician_id="nobody")
    with pytest.raises(InvalidInput, match="week"):
        scheduling.show_schedule(app_context, week="2027-5")


def test_completing_a_booked_step_keeps_it_in_the_history(app_context: ServiceContext) -> None:
    case_id = _open_three(app_context)[0]
    scheduling.plan_schedule(app_context, budget_s=2, workers=1)
    steps.complete_step(app_context, case_id, "intake")
    scheduling.plan_schedule(app_context, budget_s=2, workers=1)
    booked = [a.step_key for a in scheduling.show_schedule(app_context, case_id=case_id)]
    history = {
        a.step_key: a.status
        for a in scheduling.show_schedule(app_context, case_id=case_id, history=True)
    }
    assert "intake" not in booked
    assert history["intake"] == "attended"


@pytest.mark.parametrize(("horizon", "budget"), [(0, 5.0), (10, 0.0)])
def test_a_zero_horizon_or_budget_is_refused(
    app_context: ServiceContext, horizon: int, budget: float
) -> None:
    with pytest.raises(InvalidInput):
        scheduling.plan_schedule(app_context, horizon_weeks=horizon, budget_s=budget)


def test_the_worklist_shows_steps_booked_this_week(app_context: ServiceContext) -> None:
    case_id = cases.open_case(app_context, referral()).id
    plan = scheduling.plan_schedule(app_context, budget_s=2, workers=1)
    exam = next(
        a for a in plan.appointments if a.case_id == case_id and a.step_key == "medical_exam"
    )
    physician = app_context.as_user(exam.clinicians[0])
    days_ahead = (exam.day - date(2026, 3, 2)).days
    listed = steps.worklist(physician, booked_days=days_ahead)
    assert [(w.step_key, w.state, w.planned_on) for w in listed] == [
        ("medical_exam", "requested", exam.day)
    ]
    assert steps.worklist(physician, booked_days=days_ahead - 1) == []


def test_a_plan_made_at_ten_books_nothing_earlier_today(app_context: ServiceContext) -> None:
    ids = _open_three(app_context)
    for case_id in ids:
        steps.complete_step(app_context, case_id, "intake")
    plan = scheduling.plan_schedule(app_context, budget_s=2, workers=1)
    today = [a for a in plan.appointments if a.day == date(2026, 3, 2)]
    assert today, "steps without the family still use the rest of today"
    assert all(a.start >= "10:00" for a in today), [(a.step_key, a.start) for a in today]
