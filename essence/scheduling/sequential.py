"""The "before the team" baseline: sequential referrals, one profession after another.

Each profession is a separate referral with its own queue (oldest first) and handling
time; the family travels to the clinic for every unit, and nothing is bundled across units.
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence

from ortools.sat.python import cp_model

from essence.domain.errors import InvalidInput
from essence.domain.professions import Profession
from essence.domain.team import Clinician
from essence.scheduling.clinic_greedy import greedy_schedule
from essence.scheduling.clinic_instance import Instance, Task, build_instance
from essence.scheduling.clinic_objective import evaluate
from essence.scheduling.clinic_planner import assemble_plan
from essence.scheduling.clinic_problem import Plan, PlanningCase, PlanSettings
from essence.scheduling.solver import SolveReport

#: The order the units see the child in, one referral after another.
UNIT_ORDER: tuple[Profession, ...] = (
    Profession.COORDINATOR,
    Profession.BHV_NURSE,
    Profession.PHYSICIAN,
    Profession.SPEECH_THERAPIST,
    Profession.PHYSIOTHERAPIST,
    Profession.OCCUPATIONAL_THERAPIST,
    Profession.PSYCHOLOGIST,
    Profession.HABILITATION,
)


def sequential_plan(
    cases: Sequence[PlanningCase],
    clinicians: Sequence[Clinician],
    settings: PlanSettings,
    *,
    referral_days: int = 14,
    horizon_weeks: int = 52,
) -> Plan:
    """Plan the same cases as separate sequential referrals (the 20-week baseline).

    Args:
        cases: The open cases.
        clinicians: The same team as the coordinated plan.
        settings: The coordinated plan's settings (start, weights, sites, ...).
        referral_days: Calendar days to write, send and register each new referral.
        horizon_weeks: Longer horizon than the coordinated plan, so lead times show.

    Returns:
        A plan with method "sequential" (greedy list scheduling, no optimisation).
    """
    if referral_days < 0:
        raise InvalidInput("referral days", referral_days, "must not be negative")
    started = time.perf_counter()
    family_max = max(
        (s.minutes for c in cases for s in c.template.steps if s.family_facing), default=60
    )
    baseline = dataclasses.replace(
        settings,
        horizon_weeks=max(horizon_weeks, settings.horizon_weeks),
        family_max_minutes=max(1, family_max),
    )
    separate = [dataclasses.replace(c, team_travels=False, video_preferred=False) for c in cases]
    instance = build_instance(separate, clinicians, baseline)
    add_referral_chain(instance, referral_days)
    assignment, not_placed = greedy_schedule(instance)
    value = evaluate(instance, assignment)
    wall = time.perf_counter() - started
    report = SolveReport("FEASIBLE", float(value), None, None, wall, cp_model.CpSolver())
    return assemble_plan(instance, assignment, not_placed, report, "sequential", value)


def unit_of(task: Task) -> int:
    """Position in `UNIT_ORDER` of the last unit the step needs."""
    return max(UNIT_ORDER.index(p) for p in task.step.professions)


def add_referral_chain(instance: Instance, referral_days: int) -> None:
    """Each unit starts `referral_days` after the previous unit's last step of the case."""
    by_case: dict[str, dict[int, list[Task]]] = defaultdict(lambda: defaultdict(list))
    for task in instance.tasks:
        if not task.fixed:
            by_case[task.case_id][unit_of(task)].append(task)
    for units in by_case.values():
        ordered = sorted(units)
        for previous, current in itertools.pairwise(ordered):
            for task in units[current]:
                task.preds.extend((p.index, referral_days) for p in units[previous])


def plan_figures(plan: Plan, case_ids: set[str]) -> dict[str, float | int | None]:
    """Lead time (days), visit days, km and counts of a plan over some cases.

    Keys: cases, feedback_planned, lead_days_mean, lead_days_median, visit_days_mean,
    family_km_total, staff_km_total (whole plan), appointments, not_scheduled_yet.
    """
    leads = [plan.cases[i].lead_days for i in case_ids if plan.cases[i].lead_days is not None]
    visits = [plan.cases[i].visit_days for i in case_ids]
    return {
        "cases": len(case_ids),
        "feedback_planned": len(leads),
        "lead_days_mean": round(statistics.mean(leads), 1) if leads else None,
        "lead_days_median": statistics.median(leads) if leads else None,
        "visit_days_mean": round(statistics.mean(visits), 2) if visits else None,
        "family_km_total": sum(plan.cases[i].family_km for i in case_ids),
        "staff_km_total": plan.staff_km,
        "appointments": sum(1 for a in plan.appointments if a.case_id in case_ids),
        "not_scheduled_yet": sum(1 for u in plan.unscheduled if u.case_id in case_ids),
    }


def compare_plans(coordinated: Plan, baseline: Plan) -> dict[str, dict[str, object]]:
    """Side-by-side figures for the demo: coordinated plan vs sequential referrals.

    Lead times are compared over the cases whose feedback both plans place (so the
    longer sequential horizon does not flatter either side); visit days and km over all.

    Returns:
        {"coordinated": {...}, "sequential": {...}} each with "all" and "both_planned"
        figures from `plan_figures`.
    """
    ids = set(coordinated.cases) & set(baseline.cases)
    both = {
        i
        for i in ids
        if coordinated.cases[i].lead_days is not None and baseline.cases[i].lead_days is not None
    }
    return {
        "coordinated": {
            "all": plan_figures(coordinated, ids),
            "both_planned": plan_figures(coordinated, both),
        },
        "sequential": {
            "all": plan_figures(baseline, ids),
            "both_planned": plan_figures(baseline, both),
        },
    }
