"""Property tests: small random clinics, and every plan keeps every rule the checker knows.

The plan before the checker gate must already be clean (the gate is a safety net, not the
way rules are kept), and the plan returned has zero findings.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from essence.domain.family import FamilyNeeds
from essence.domain.professions import Organisation, Profession
from essence.domain.team import Absence, Clinician, Roster
from essence.scheduling.clinic_bound import lower_bound
from essence.scheduling.clinic_check import check_plan
from essence.scheduling.clinic_cpsat import build_model, extract, solve
from essence.scheduling.clinic_greedy import greedy_schedule
from essence.scheduling.clinic_instance import build_instance
from essence.scheduling.clinic_objective import evaluate, leave_out_penalty, penalised
from essence.scheduling.clinic_planner import assemble_plan, plan_clinic
from essence.scheduling.clinic_problem import Booking, PlanningCase, default_template
from essence.scheduling.solver import SolveReport, SolverSettings
from tests.unit.scheduling.clinic_factories import START
from tests.unit.scheduling.clinic_factories import settings as plan_settings

HOMES = ["Umeå", "Vännäs", "Skellefteå", "Lycksele", "Sorsele", "Vindeln", "Storuman"]
PROFESSIONS = [
    Profession.PSYCHOLOGIST,
    Profession.PHYSICIAN,
    Profession.SPEECH_THERAPIST,
    Profession.PHYSIOTHERAPIST,
    Profession.COORDINATOR,
    Profession.BHV_NURSE,
    Profession.HABILITATION,
]


@st.composite
def clinicians(draw: st.DrawFn) -> list[Clinician]:
    team = []
    for profession in PROFESSIONS:
        for number in range(draw(st.integers(1, 2))):
            minutes = draw(st.sampled_from([120, 240, 360, 420]))
            start = draw(st.sampled_from(["07:30", "08:00", "08:30"]))
            end = draw(st.sampled_from(["15:30", "16:00", "17:00"]))
            lunch = draw(st.sampled_from(["11:30+30", "12:00+45", "12:00+0"]))
            days = ",".join(f"{d}={minutes}@{start}-{end}" for d in ("mon", "tue", "wed", "thu"))
            roster = Roster.parse(f"{days},fri={minutes // 2},lunch={lunch}")
            away = draw(st.integers(0, 20))
            team.append(
                Clinician(
                    f"{profession.value}-{number}",
                    "x",
                    profession,
                    Organisation.BUP,
                    roster=roster,
                    absences=[Absence(START + timedelta(days=away), START + timedelta(days=away))],
                    daily_cap_minutes=480,
                )
            )
    return team


@st.composite
def cases(draw: st.DrawFn) -> list[PlanningCase]:
    found = []
    for index in range(draw(st.integers(1, 4))):
        blocked = draw(st.frozensets(st.integers(0, 4), max_size=2))
        interpreter = draw(st.sampled_from(["", "arabic"]))
        needs = FamilyNeeds(
            blocked_weekdays=blocked,
            interpreter_language=interpreter,
            interpreter_minutes=15 if interpreter else 0,
            preferred_site=draw(st.sampled_from(["", "Lycksele"])),
        )
        found.append(
            PlanningCase(
                case_id=f"c{index}",
                referral_date=START - timedelta(days=draw(st.integers(0, 40))),
                municipality=draw(st.sampled_from(HOMES)),
                template=default_template(),
                team_travels=draw(st.booleans()),
                needs=needs,
            )
        )
    return found


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(team=clinicians(), open_cases=cases(), frozen=st.integers(0, 3))
def test_every_random_clinic_plan_keeps_every_rule_before_and_after_the_gate(
    team, open_cases, frozen
):
    chosen = plan_settings(horizon_weeks=5, frozen_working_days=frozen, budget_s=1.0)
    instance = build_instance(open_cases, team, chosen)
    greedy, not_placed = greedy_schedule(instance)
    report = SolveReport("FEASIBLE", 0.0, None, None, 0.0, cp_model.CpSolver())
    before_gate = assemble_plan(instance, greedy, not_placed, report, "greedy", 0, repack_s=0.5)
    assert [str(f) for f in check_plan(before_gate, open_cases, team)] == []
    plan = plan_clinic(open_cases, team, chosen, use_cpsat=False)
    assert check_plan(plan, open_cases, team) == []
    assert plan.bound_parts.total <= plan.report.objective  # a bound, part by part too
    assert plan.report.objective == plan.objective_parts["total"]
    stages = plan.stage_objectives  # the greedy plan gets clock times, no polish
    assert stages["clock_times"] == stages["polished"] == plan.report.objective
    if plan.bound_parts.not_scheduled == plan.objective_parts["not_scheduled"]:  # same steps
        bound, objective = plan.bound_parts.to_dict(), plan.objective_parts
        for name, value in bound.items():
            if name not in ("total", "step_days"):  # step days bound only with the lead
                assert value <= objective[name], name
        assert bound["lead"] + bound["step_days"] <= objective["lead"] + objective["step_days"]
    for appointment in plan.appointments:
        assert appointment.start.minute % 15 == 0
        if appointment.family_facing:
            case = next(c for c in open_cases if c.case_id == appointment.case_id)
            assert not case.needs.blocks(appointment.day)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(team=clinicians(), open_cases=cases())
def test_a_replan_around_the_first_plan_keeps_its_frozen_bookings_and_every_rule(team, open_cases):
    first = plan_clinic(open_cases, team, plan_settings(horizon_weeks=5), use_cpsat=False)
    booked = first.bookings()
    later = plan_settings(horizon_weeks=5, frozen_working_days=5, start=START)
    again = [
        PlanningCase(**{**c.__dict__, "bookings": booked.get(c.case_id, ())}) for c in open_cases
    ]
    plan = plan_clinic(again, team, later, use_cpsat=False)
    assert check_plan(plan, again, team) == []
    kept = {(a.case_id, a.step_key): a for a in plan.appointments}
    for bookings in booked.values():
        for booking in bookings:
            if booking.day < START + timedelta(days=7):
                appointment = kept.get((booking.case_id, booking.step_key))
                assert appointment is not None
                assert isinstance(booking, Booking) and appointment.day == booking.day


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(team=clinicians(), open_cases=cases())
def test_the_bound_never_exceeds_what_cp_sat_reaches(team, open_cases):
    chosen = plan_settings(horizon_weeks=4, budget_s=2.0)
    plan = plan_clinic(open_cases, team, chosen)
    assert check_plan(plan, open_cases, team) == []
    assert plan.report.best_bound <= plan.report.objective
    assert 0.0 <= plan.report.gap <= 1.0


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(team=clinicians(), open_cases=cases(), pick=st.integers(0, 10**6))
def test_leaving_a_step_out_never_scores_better_than_placing_it_on_any_day(team, open_cases, pick):
    instance = build_instance(open_cases, team, plan_settings(horizon_weeks=3))
    greedy, _ = greedy_schedule(instance)
    free = [i for i in greedy if not instance.tasks[i].fixed]
    if not free:
        return
    task = instance.tasks[free[pick % len(free)]]
    without = {i: placed for i, placed in greedy.items() if i != task.index}
    left_out = penalised(instance, without)
    assert left_out - evaluate(instance, without) >= leave_out_penalty(instance, task)
    for day in range(instance.horizon):  # every day and clinicians, feasible or not
        for clinician_ids in itertools.product(*task.candidates):
            placed = {**without, task.index: (day, tuple(clinician_ids))}
            assert penalised(instance, placed) <= left_out


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(team=clinicians(), open_cases=cases())
def test_the_bound_never_exceeds_a_proven_day_level_optimum(team, open_cases):
    chosen = plan_settings(horizon_weeks=3, budget_s=5.0, workers=1)
    instance = build_instance(open_cases[:2], team, chosen)
    greedy, _ = greedy_schedule(instance)
    model = build_model(instance, greedy, full_window=True)
    report = solve(model.model, SolverSettings(time_budget_s=5.0, workers=1, random_seed=0))
    if report.status == "OPTIMAL":  # the day-level rules are at least the checker's
        optimum = extract(model, report)
        assert lower_bound(instance, optimum).total <= penalised(instance, optimum)
