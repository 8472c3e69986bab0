"""Greedy list scheduler and the constraint families it shares with CP-SAT (hand-checkable)."""

from __future__ import annotations

from essence.scheduling.clinic_bound import earliest_days
from essence.scheduling.clinic_greedy import DayLoad, greedy_schedule
from essence.scheduling.clinic_instance import build_instance
from essence.scheduling.clinic_planner import plan_clinic
from tests.unit.scheduling.clinic_factories import (
    START,
    case,
    clinician,
    day,
    settings,
    step,
    template,
)


def greedy(cases, team, **extra):
    return plan_clinic(cases, team, settings(**extra), use_cpsat=False)


def days_of(plan):
    return {a.step_key: a.day for a in plan.appointments}


def test_waiting_step_delays_its_successor_by_its_calendar_days():
    pathway = template(
        step("intake", "coordinator", attendees=["guardians"]),
        step("questionnaires", wait_days=14, requires=["intake"], attendees=[]),
        step("interview", "psychologist", requires=["questionnaires"]),
    )
    team = [clinician("co-1", "coordinator"), clinician("psy-1", "psychologist")]
    plan = greedy([case("c1", pathway)], team, horizon_weeks=4)
    days = days_of(plan)
    assert days["intake"] == START
    assert days["interview"] == day(14)


def test_daily_minutes_of_a_clinician_are_never_exceeded():
    pathway = template(
        step("first", "psychologist", minutes=120, attendees=[]),
        step("second", "psychologist", minutes=120, attendees=[]),
    )
    plan = greedy([case("c1", pathway)], [clinician("psy-1", "psychologist", minutes=180)])
    days = days_of(plan)
    assert days["first"] != days["second"]


def test_a_public_holiday_is_never_booked():
    # Thursday 24 June 2027 is a working day; Friday 25 June is Midsummer Eve.
    from datetime import date

    pathway = template(
        step("a", "psychologist", minutes=300, attendees=[]),
        step("b", "psychologist", minutes=300, attendees=[]),
        step("c", "psychologist", minutes=300, attendees=[]),
    )
    team = [clinician("psy-1", "psychologist", minutes=300)]
    plan = greedy([case("c1", pathway)], team, start=date(2027, 6, 24))
    booked = sorted(a.day for a in plan.appointments)
    assert booked == [date(2027, 6, 24), date(2027, 6, 28), date(2027, 6, 29)]


def test_an_absent_clinician_is_not_booked_and_a_colleague_takes_over():
    pathway = template(step("exam", "physician"))
    team = [
        clinician("md-1", "physician", absences=((START, day(4)),)),
        clinician("md-2", "physician", minutes=0),
    ]
    plan = greedy([case("c1", pathway)], team)
    assert days_of(plan)["exam"] == day(7)


def test_family_steps_are_bundled_into_one_day_within_the_child_limit():
    pathway = template(
        step("exam", "physician", minutes=90),
        step("test", "psychologist", minutes=60),
        step("language", "speech_therapist", minutes=75),
        step(
            "report", "physician", minutes=30, requires=["exam", "test", "language"], attendees=[]
        ),
    )
    team = [
        clinician("md-1", "physician"),
        clinician("psy-1", "psychologist"),
        clinician("slp-1", "speech_therapist"),
    ]
    plan = greedy([case("c1", pathway)], team)
    assert plan.cases["c1"].visit_days == 1
    limited = greedy([case("c1", pathway)], team, family_max_minutes=180)
    assert limited.cases["c1"].visit_days == 2


def test_a_joint_step_books_both_professions_on_the_same_day():
    pathway = template(step("ados", "psychologist", "speech_therapist"))
    team = [
        clinician("psy-1", "psychologist", absences=((START, START),)),
        clinician("slp-1", "speech_therapist"),
    ]
    plan = greedy([case("c1", pathway)], team)
    (ados,) = plan.appointments
    assert ados.clinician_ids == ("psy-1", "slp-1")
    assert ados.day == day(1)


def test_a_missing_profession_leaves_the_step_and_its_successors_unscheduled():
    pathway = template(
        step("motor", "physiotherapist"),
        step("feedback", "physician", requires=["motor"]),
    )
    plan = greedy([case("c1", pathway)], [clinician("md-1", "physician")])
    reasons = {u.step_key: u.reason for u in plan.unscheduled}
    assert "no active clinician with profession physiotherapist" in reasons["motor"]
    assert reasons["feedback"] == "waits for motor (not scheduled yet)"
    assert plan.cases["c1"].feedback_date is None


def test_a_step_beyond_the_horizon_is_reported_not_scheduled_yet():
    pathway = template(step("exam", "physician", minutes=400))
    plan = greedy([case("c1", pathway)], [clinician("md-1", "physician")])
    assert plan.appointments == ()
    assert "does not fit in the 2-week horizon" in plan.unscheduled[0].reason


def test_continuity_keeps_the_same_psychologist_for_one_child():
    pathway = template(
        step("test", "psychologist", minutes=60),
        step("interview", "psychologist", minutes=60, requires=["test"], attendees=["guardians"]),
    )
    team = [clinician("psy-1", "psychologist"), clinician("psy-2", "psychologist")]
    plan = greedy([case("c1", pathway)], team)
    assert {a.clinician_ids for a in plan.appointments} == {("psy-1",)}


def test_an_ambulating_clinician_sees_two_children_in_one_municipality_on_one_trip():
    pathway = template(step("visit", "psychologist", minutes=60))
    cases = [case(f"c{i}", pathway, municipality="Vännäs", team_travels=True) for i in (1, 2)]
    plan = greedy(cases, [clinician("psy-1", "psychologist")])
    assert {a.day for a in plan.appointments} == {START}
    assert plan.staff_km == 2 * 30
    assert all(a.place.kind == "home_municipality" for a in plan.appointments)
    assert plan.cases["c1"].family_km == 0


def test_a_family_that_travels_goes_to_the_nearest_site_and_drives_there():
    pathway = template(step("visit", "psychologist", minutes=60))
    plan = greedy(
        [case("c1", pathway, municipality="Vännäs")], [clinician("psy-1", "psychologist")]
    )
    (visit,) = plan.appointments
    assert visit.place.municipality == "Umeå"
    assert plan.cases["c1"].family_km == 60
    assert plan.staff_km == 0


def test_a_family_meets_the_team_in_one_place_per_day():
    pathway = template(
        step("exam", "physician", minutes=60),
        step(
            "meeting",
            "coordinator",
            minutes=60,
            location="home_municipality",
            requires=["exam"],
            attendees=["guardians"],
        ),
    )
    team = [clinician("md-1", "physician"), clinician("co-1", "coordinator")]
    cases = [case("c1", pathway, municipality="Vännäs")]
    for use_cpsat in (False, True):
        plan = plan_clinic(cases, team, settings(), use_cpsat=use_cpsat)
        places = {a.step_key: (a.day, a.place.municipality) for a in plan.appointments}
        assert places["exam"] == (START, "Umeå")
        assert places["meeting"] == (day(1), "Vännäs")


def test_a_step_away_from_base_waits_a_day_after_a_joint_step_of_three_but_the_bound_does_not():
    pathway = template(
        step("conference", "psychologist", "physician", "speech_therapist", attendees=[]),
        step("feedback", "physician", requires=["conference"], attendees=["guardians"]),
    )
    team = [
        clinician("psy", "psychologist"),
        clinician("md", "physician"),
        clinician("slp", "speech_therapist"),
    ]
    away = case("far", pathway, municipality="Skellefteå")
    home = case("near", pathway)
    instance = build_instance([away, home], team, settings())
    assignment, _ = greedy_schedule(instance)
    days = {(t.case_id, t.key): assignment[t.index][0] for t in instance.tasks}
    assert days[("far", "feedback")] > days[("far", "conference")]
    assert days[("near", "feedback")] == days[("near", "conference")]
    earliest = earliest_days(instance, assignment, {}, DayLoad())
    far = {t.key: earliest[t.index] for t in instance.tasks if t.case_id == "far"}
    assert far["feedback"] == far["conference"]  # the bound keeps the real lag (none)
