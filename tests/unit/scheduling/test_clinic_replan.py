"""Re-planning: bookings kept, the frozen window never moves, moves cost what the weight says."""

from __future__ import annotations

import dataclasses
import itertools

from essence.scheduling.clinic_check import check_plan
from essence.scheduling.clinic_planner import insert_referral, plan_clinic, replan
from essence.scheduling.clinic_problem import Booking, Weights
from tests.unit.scheduling.clinic_factories import (
    START,
    case,
    clinician,
    day,
    settings,
    step,
    template,
)


def single():
    return template(step("exam", "physician", minutes=60))


def test_a_frozen_appointment_never_moves_even_when_its_clinician_fell_ill():
    booked = Booking("c1", "exam", day(1), ("md-1",), start_minute=600)
    team = [
        clinician("md-1", "physician", absences=((day(1), day(1)),)),
        clinician("md-2", "physician"),
    ]
    plan = plan_clinic(
        [case("c1", single(), bookings=(booked,))],
        team,
        settings(frozen_working_days=5, move_bookings=True),
    )
    (exam,) = plan.appointments
    assert (exam.day, exam.clinician_ids, exam.moved) == (day(1), ("md-1",), False)
    assert (exam.start.hour, exam.start.minute) == (10, 0)


def test_a_kept_booking_stays_on_its_later_day_when_moves_are_not_asked_for():
    booked = Booking("c1", "exam", day(8), ("md-1",))
    plan = plan_clinic(
        [case("c1", single(), bookings=(booked,))], [clinician("md-1", "physician")], settings()
    )
    assert plan.appointments[0].day == day(8)
    assert plan.moved_count == 0


def test_a_move_happens_only_when_it_saves_more_than_its_penalty():
    booked = Booking("c1", "exam", day(8), ("md-1",))
    cases = [case("c1", single(), bookings=(booked,))]
    team = [clinician("md-1", "physician")]
    # Moving from day 8 to day 0 saves 8 days x (20 feedback + 1 step) = 168 points.
    expensive = plan_clinic(cases, team, settings(move_bookings=True, weights=Weights(move=169)))
    cheap = plan_clinic(cases, team, settings(move_bookings=True, weights=Weights(move=167)))
    assert (expensive.appointments[0].day, expensive.moved_count) == (day(8), 0)
    assert (cheap.appointments[0].day, cheap.moved_count) == (START, 1)


def test_an_absence_moves_only_the_appointment_it_hits():
    pathway = template(
        step("a", "physician", attendees=["guardians"]),
        step("b", "psychologist"),
        step("c", "physician", requires=["a", "b"], attendees=[]),
    )
    bookings = (
        Booking("c1", "a", day(7), ("md-1",)),
        Booking("c1", "b", day(8), ("psy-1",)),
        Booking("c1", "c", day(9), ("md-1",)),
    )
    team = [
        clinician("md-1", "physician"),
        clinician("psy-1", "psychologist", absences=((day(8), day(8)),)),
    ]
    plan = plan_clinic(
        [case("c1", pathway, bookings=bookings)],
        team,
        settings(move_bookings=True, frozen_working_days=5),
    )
    days = {a.step_key: (a.day, a.moved) for a in plan.appointments}
    assert days["a"] == (day(7), False)
    assert days["c"] == (day(9), False)
    assert days["b"][1] is True and days["b"][0] <= day(9)
    assert plan.moved_count == 1


def test_inserting_a_referral_moves_no_booked_appointment():
    pathway = template(
        step("exam", "physician", minutes=120),
        step("feedback", "physician", minutes=60, requires=["exam"]),
    )
    team = [clinician("md-1", "physician", minutes=240)]
    cases = [case(f"c{i}", pathway) for i in range(3)]
    first = plan_clinic(cases, team, settings(horizon_weeks=3))
    newcomer = case("new", pathway, referral_date=START)
    second = insert_referral(first, cases, newcomer, team, settings(horizon_weeks=3))
    kept = {(a.case_id, a.step_key): a for a in second.appointments}
    for appointment in first.appointments:
        again = kept[(appointment.case_id, appointment.step_key)]
        assert dataclasses.astuple(again)[:8] == dataclasses.astuple(appointment)[:8]
    assert second.moved_count == 0
    assert second.cases["new"].feedback_date is not None


def test_replan_takes_bookings_by_case():
    booked = {"c1": (Booking("c1", "exam", day(3), ("md-1",)),)}
    plan = replan([case("c1", single())], [clinician("md-1", "physician")], settings(), booked)
    assert plan.appointments[0].day == day(3)
    assert plan.appointments[0].booked


def test_plan_bookings_can_leave_staff_only_steps_free():
    pathway = template(
        step("exam", "physician"),
        step("report", "physician", requires=["exam"], attendees=[]),
    )
    plan = plan_clinic([case("c1", pathway)], [clinician("md-1", "physician")], settings())
    assert [b.step_key for b in plan.bookings()["c1"]] == ["exam", "report"]
    assert [b.step_key for b in plan.bookings(family_only=True)["c1"]] == ["exam"]


def test_plan_as_plain_data_has_iso_times_and_the_solve_report():
    plan = plan_clinic([case("c1", single())], [clinician("md-1", "physician")], settings())
    data = plan.to_dict()
    assert data["appointments"][0]["start"].startswith("2027-01-11T08:00:00+01:00")
    assert data["solve"]["status"] == "OPTIMAL"
    assert data["cases"]["c1"]["lead_days"] == 30


def test_kept_bookings_that_break_a_rule_leave_with_everything_after_them_at_once():
    """Seven booked steps in a chain overfill the physician's day (210 of 120 minutes):
    the checker's gate takes the step at fault out with every kept booking after it in
    one round (their prerequisites are not in the planner's model), so a chain longer
    than the gate's rounds does not make the plan fail."""
    keys = [f"s{n}" for n in range(1, 8)]
    chain = template(
        step("s1", "physician", minutes=30),
        *(
            step(key, "physician", minutes=30, requires=[before])
            for before, key in itertools.pairwise(keys)
        ),
    )
    bookings = tuple(
        Booking("c1", key, day(8), ("md-1",), start_minute=480 + 30 * n)
        for n, key in enumerate(keys)
    )
    cases = [case("c1", chain, bookings=bookings)]
    team = [clinician("md-1", "physician", minutes=120)]
    plan = plan_clinic(cases, team, settings())
    assert check_plan(plan, cases, team) == []
    planned = {a.step_key for a in plan.appointments}
    left_out = {u.step_key for u in plan.unscheduled}
    assert planned | left_out == set(keys) and not planned & left_out
    assert left_out, "an overfull day is not booked as it was"
    first_out = min(left_out, key=keys.index)
    assert left_out == set(keys[keys.index(first_out) :]), "all after the step at fault go too"
