"""The clinic planner's entry points: a full plan, a re-plan around bookings, one new referral.

Greedy warm start -> CP-SAT day-level model (LNS for big plans) -> clock times -> `Plan`.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

from ortools.sat.python import cp_model

from essence.domain.calendar import at_local
from essence.domain.errors import NotFound
from essence.domain.team import Clinician
from essence.scheduling.clinic_cpsat import solve_day_level
from essence.scheduling.clinic_greedy import Assignment, greedy_schedule
from essence.scheduling.clinic_instance import Instance, build_instance
from essence.scheduling.clinic_objective import evaluate, moved
from essence.scheduling.clinic_problem import (
    Appointment,
    Booking,
    CaseMetrics,
    Plan,
    PlanningCase,
    PlanSettings,
    Unscheduled,
)
from essence.scheduling.clinic_times import clock_times
from essence.scheduling.solver import SolveReport
from essence.scheduling.travel import family_km

#: Share of the budget kept for stage 2 (re-packing days that overrun), at most
#: `STAGE_TWO_MAX_S` seconds; stage 1 (greedy, CP-SAT, LNS) gets the rest.
STAGE_TWO_SHARE = 0.1
STAGE_TWO_MAX_S = 1.5


def plan_clinic(
    cases: Sequence[PlanningCase],
    clinicians: Sequence[Clinician],
    settings: PlanSettings,
    *,
    use_cpsat: bool = True,
) -> Plan:
    """Plan every open case's remaining steps over the horizon.

    Args:
        cases: The open cases (with completed steps and bookings).
        clinicians: The team; inactive clinicians are ignored.
        settings: Horizon, budget, family limits, frozen window, weights, seed.
        use_cpsat: False returns the greedy plan (milliseconds, no optimisation).

    Returns:
        The plan; steps that cannot be placed are in `plan.unscheduled` with a reason.

    Raises:
        InvalidInput / NotFound: for bad input (unknown clinician in a booking, ...).
    """
    started = time.perf_counter()
    repack_s = min(STAGE_TWO_MAX_S, STAGE_TWO_SHARE * settings.budget_s)
    stage_one = dataclasses.replace(settings, budget_s=settings.budget_s - repack_s)
    instance = build_instance(cases, clinicians, stage_one)
    greedy, not_placed = greedy_schedule(instance)
    greedy_value = evaluate(instance, greedy)
    has_free = any(not t.fixed for t in instance.tasks if t.index in greedy)
    if use_cpsat and has_free:
        assignment, report, method = solve_day_level(instance, greedy)
    else:
        wall = time.perf_counter() - started
        report = SolveReport("FEASIBLE", float(greedy_value), None, None, wall, cp_model.CpSolver())
        assignment, method = greedy, "greedy"
    instance.settings = settings
    return assemble_plan(
        instance, assignment, not_placed, report, method, greedy_value, repack_s=repack_s
    )


def replan(
    cases: Sequence[PlanningCase],
    clinicians: Sequence[Clinician],
    settings: PlanSettings,
    bookings: dict[str, tuple[Booking, ...]],
) -> Plan:
    """Plan again around existing bookings (e.g. after an absence was added).

    Bookings inside the frozen window never move; with `settings.move_bookings` the others
    may move, each move costing `settings.weights.move`; otherwise they stay unless a
    clinician became unavailable.
    """
    known = {c.case_id for c in cases}
    for case_id in bookings:
        if case_id not in known:
            raise NotFound("case", case_id)
    booked = [dataclasses.replace(c, bookings=bookings.get(c.case_id, c.bookings)) for c in cases]
    return plan_clinic(booked, clinicians, settings)


def insert_referral(
    plan: Plan,
    cases: Sequence[PlanningCase],
    new_case: PlanningCase,
    clinicians: Sequence[Clinician],
    settings: PlanSettings,
) -> Plan:
    """Add one new referral to a booked plan without moving any booked appointment."""
    keep = dataclasses.replace(settings, move_bookings=False)
    return replan([*cases, new_case], clinicians, keep, plan.bookings())


# --- assembling the plan --------------------------------------------------------------------


def assemble_plan(
    instance: Instance,
    assignment: Assignment,
    not_placed: list[Unscheduled],
    report: SolveReport,
    method: str,
    greedy_value: int,
    repack_s: float = 0.5,
) -> Plan:
    """Turn a day-level assignment into appointments with clock times and figures.

    Args:
        repack_s: Seconds stage 2 may spend re-packing days that overrun.
    """
    starts = clock_times(instance, assignment, repack_s)
    appointments = []
    for index, (day, clinician_ids) in assignment.items():
        task = instance.tasks[index]
        begin = at_local(instance.days[day], 0, 0) + timedelta(minutes=starts[index])
        appointments.append(
            Appointment(
                case_id=task.case_id,
                step_key=task.key,
                title=task.step.title,
                day=instance.days[day],
                start=begin,
                end=begin + timedelta(minutes=task.step.minutes),
                clinician_ids=tuple(clinician_ids),
                place=task.place,
                family_facing=bool(task.family_minutes),
                booked=task.booking is not None,
                moved=moved(instance, task, (day, clinician_ids)),
            )
        )
    appointments.sort(key=lambda a: (a.start, a.case_id, a.step_key))
    unscheduled = tuple(instance.unscheduled + not_placed)
    return Plan(
        appointments=tuple(appointments),
        unscheduled=unscheduled,
        cases=_case_metrics(instance, appointments),
        staff_km=_staff_km(instance, assignment),
        report=report,
        method=method,
        greedy_objective=greedy_value,
        settings=instance.settings,
    )


def _case_metrics(instance: Instance, appointments: list[Appointment]) -> dict[str, CaseMetrics]:
    by_case: dict[str, list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        by_case[appointment.case_id].append(appointment)
    metrics = {}
    for case_id, case in instance.cases.items():
        mine = by_case[case_id]
        feedback_key = case.template.feedback_key
        feedback = case.completed.get(feedback_key) or next(
            (a.day for a in mine if a.step_key == feedback_key), None
        )
        metrics[case_id] = CaseMetrics(
            case_id=case_id,
            referral_date=case.referral_date,
            feedback_date=feedback,
            lead_days=(feedback - case.referral_date).days if feedback else None,
            visit_days=len({a.day for a in mine if a.family_facing}),
            family_km=family_km(case.municipality, mine),
            moved_bookings=sum(1 for a in mine if a.moved),
        )
    return metrics


def _staff_km(instance: Instance, assignment: Assignment) -> int:
    trips: set[tuple[str, int, str]] = set()
    for index, (day, clinician_ids) in assignment.items():
        task = instance.tasks[index]
        for clinician_id in clinician_ids:
            if instance.needs_trip(task, clinician_id):
                trips.add((clinician_id, day, task.destination or ""))
    return sum(instance.trip_km(c, m) for c, _, m in trips)
