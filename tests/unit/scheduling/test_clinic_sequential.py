"""The sequential-referral baseline: one unit after another, each with referral handling."""

from __future__ import annotations

from essence.scheduling.clinic_planner import plan_clinic
from essence.scheduling.sequential import compare_plans, sequential_plan
from tests.unit.scheduling.clinic_factories import (
    START,
    case,
    clinician,
    day,
    settings,
    step,
    template,
)


def three_units():
    return template(
        step("exam", "physician", minutes=60),
        step("language", "speech_therapist", minutes=60),
        step("test", "psychologist", minutes=60),
        step(
            "feedback",
            "physician",
            "psychologist",
            minutes=60,
            requires=["exam", "language", "test"],
            attendees=["guardians"],
        ),
    )


def team():
    return [
        clinician("md-1", "physician"),
        clinician("slp-1", "speech_therapist"),
        clinician("psy-1", "psychologist"),
    ]


def test_each_unit_waits_for_the_previous_units_referral():
    plan = sequential_plan([case("c1", three_units())], team(), settings(), referral_days=14)
    days = {a.step_key: a.day for a in plan.appointments}
    assert days["exam"] == START
    assert days["language"] == day(14)
    assert days["test"] == day(28)
    assert days["feedback"] == day(29)  # one step per family day, as separate units book
    assert plan.method == "sequential"


def test_the_coordinated_plan_beats_the_sequential_baseline_on_days_and_visits():
    cases = [case("c1", three_units())]
    coordinated = plan_clinic(cases, team(), settings())
    baseline = sequential_plan(cases, team(), settings())
    assert coordinated.cases["c1"].lead_days < baseline.cases["c1"].lead_days
    assert coordinated.cases["c1"].visit_days < baseline.cases["c1"].visit_days


def test_compare_plans_gives_side_by_side_figures_over_cases_both_plans_finish():
    cases = [case("c1", three_units()), case("c2", three_units(), municipality="Vännäs")]
    coordinated = plan_clinic(cases, team(), settings())
    figures = compare_plans(coordinated, sequential_plan(cases, team(), settings()))
    left, right = figures["coordinated"]["both_planned"], figures["sequential"]["both_planned"]
    assert left["cases"] == right["cases"] == 2
    assert left["lead_days_mean"] < right["lead_days_mean"]
    assert (
        figures["coordinated"]["all"]["family_km_total"]
        <= (figures["sequential"]["all"]["family_km_total"])
    )
