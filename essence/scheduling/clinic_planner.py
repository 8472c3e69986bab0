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
from essence.domain.errors import NotFound, PlanCheckFailed
from essence.domain.team import Clinician
from essence.scheduling.clinic_bound import BoundParts, lower_bound
from essence.scheduling.clinic_check import Finding, check_plan
from essence.scheduling.clinic_cpsat import solve_day_level
from essence.scheduling.clinic_greedy import Assignment, greedy_schedule
from essence.scheduling.clinic_instance import Instance, build_instance
from essence.scheduling.clinic_objective import (
    evaluate_parts,
    moved,
    not_scheduled_penalty,
    penalised,
)
from essence.scheduling.clinic_problem import (
    Appointment,
    Booking,
    CaseMetrics,
    Plan,
    PlanningCase,
    PlanSettings,
    Unscheduled,
)
from essence.scheduling.clinic_relief import ClockCheckpoint, clock_times_with_relief, polish
from essence.scheduling.clinic_times import Times
from essence.scheduling.progress import Watch
from essence.scheduling.solver import SolveReport, relative_gap
from essence.scheduling.travel import family_km

#: Share of the budget kept for stage 2 (re-packing days that overrun), at most
#: `STAGE_TWO_MAX_S` seconds; stage 1 (greedy, CP-SAT, LNS) gets the rest. On 60 cases the
#: days to re-pack take about 1.5 s; time kept but not used is lost to the search.
STAGE_TWO_SHARE = 0.15
STAGE_TWO_MAX_S = 2.5
#: Share of the budget also kept from stage 1 for clock-time relief (`clinic_relief`), at
#: most `RELIEF_MAX_S` seconds. A relief round (a day-level re-solve and clock times again)
#: takes about two seconds on 60 cases and often scores worse than the repair
#: (`clinic_times.repair` tries other teams and moves a step aside first), so big plans
#: keep little for it and give the time to the search. Without it (its second to the
#: polish) `clinic_scale` gave 155.3k (12 runs, 10 within 15 %) against 155.0k (11 within).
RELIEF_SHARE = 0.1
RELIEF_MAX_S = 1.0
#: Share of the budget kept for polishing the plan with clock times (`clinic_relief.polish`:
#: LNS rounds that keep only changes whose days still pack), with `POLISH_THREADS`
#: rounds at a time (at most `settings.workers`); none in deterministic mode (no polish).
#: The day-level search gains fastest in its first seconds and then loses 1-5k points at
#: clock times in some runs; the polish cannot lose any. On `clinic_scale` 45 % gave a
#: mean objective of 154.9k (30 runs, 26 within 15 % of the bound); 10 % (at most 3 s)
#: 155.8k (9 runs, 5 within); 55 % 155.0k (12 runs, 9 within). In a harness of the two
#: alone (26 s, four seeds each), 8, 12 and 16 s of search before it were alike.
POLISH_SHARE = 0.45
POLISH_THREADS = 2
#: Seconds of the budget kept after relief (the bound, the checker and the figures).
RELIEF_MARGIN_S = 1.0
#: The checker gate gives up (raises) after this many repair rounds.
MAX_GATE_ROUNDS = 5


def plan_clinic(
    cases: Sequence[PlanningCase],
    clinicians: Sequence[Clinician],
    settings: PlanSettings,
    *,
    use_cpsat: bool = True,
    watch: Watch | None = None,
) -> Plan:
    """Plan every open case's remaining steps over the horizon.

    Every plan passes the independent checker (`clinic_check.check_plan`) before it is
    returned: a step it finds at fault is taken out with its successors and reported as
    "not scheduled yet" with the reason, so the plan returned has no findings.

    Args:
        cases: The open cases (with completed steps, bookings and family needs).
        clinicians: The team; inactive clinicians are ignored.
        settings: Horizon, budget, family limits, frozen window, weights, seed, grid.
        use_cpsat: False returns the greedy plan (milliseconds, no optimisation).
        watch: Receives live progress and carries a stop request (Ctrl-C): the best plan
            found so far is then returned.

    Returns:
        The plan; steps that cannot be placed are in `plan.unscheduled` with a reason.

    Raises:
        InvalidInput / NotFound: for bad input (unknown clinician in a booking, ...).
    """
    watch = watch or Watch()
    started = time.perf_counter()
    repack_s = min(STAGE_TWO_MAX_S, STAGE_TWO_SHARE * settings.budget_s)
    relief_s = min(RELIEF_MAX_S, RELIEF_SHARE * settings.budget_s) if use_cpsat else 0.0
    polishes = use_cpsat and not settings.deterministic  # see `assemble_plan`
    polish_s = POLISH_SHARE * settings.budget_s if polishes else 0.0
    stage_one = dataclasses.replace(
        settings, budget_s=settings.budget_s - repack_s - relief_s - polish_s
    )
    instance = build_instance(cases, clinicians, stage_one)
    greedy, not_placed = greedy_schedule(instance)
    greedy_value = penalised(instance, greedy)
    live_bound = lower_bound(instance, greedy).total if watch.on_progress else None
    watch.report(objective=float(greedy_value), bound=live_bound)
    if not settings.deterministic:  # the time spent so far comes out of stage 1's budget
        spent = time.perf_counter() - started
        instance.settings = dataclasses.replace(
            stage_one, budget_s=max(0.2, stage_one.budget_s - spent)
        )
    has_free = any(not t.fixed for t in instance.tasks if t.index in greedy)
    checkpoint = ClockCheckpoint(instance, repack_s)
    if use_cpsat and has_free and not watch.stopped:
        assignment, report, method = solve_day_level(instance, greedy, watch, checkpoint)
    else:
        wall = time.perf_counter() - started
        report = SolveReport("FEASIBLE", float(greedy_value), None, None, wall, cp_model.CpSolver())
        assignment, method = greedy, "greedy"
    instance.settings = settings
    placed = {(instance.tasks[i].case_id, instance.tasks[i].key) for i in assignment}
    not_placed = [u for u in not_placed if (u.case_id, u.step_key) not in placed]
    watch.report(stage="clock times")
    plan = assemble_plan(
        instance, assignment, not_placed, report, method, greedy_value, repack_s=repack_s,
        relieve_until=started + settings.budget_s - RELIEF_MARGIN_S if method != "greedy" else None,
        polish_s=polish_s,
        earlier=checkpoint.result,
        watch=watch,
    )  # fmt: skip
    plan = gate(plan, instance, cases, clinicians)
    watch.report(stage="done", objective=plan.report.objective, bound=plan.report.best_bound)
    return plan


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
    relieve_until: float | None = None,
    polish_s: float = 0.0,
    earlier: tuple[Assignment, Times] | None = None,
    watch: Watch | None = None,
) -> Plan:
    """Turn a day-level assignment into appointments with clock times, figures and a bound.

    Steps that find no clock time move to another day or are dropped (stage 2); the
    objective is then evaluated again with a penalty for each step left out
    (`clinic_objective.penalised`). The bound is computed for the complete plan (every step
    stage 1 placed); see `_plan_of`. The gap is against the better of that bound and
    CP-SAT's (when no step was dropped).

    Args:
        repack_s: Seconds stage 2 may spend re-packing days that leave a step out.
        relieve_until: Until this `time.perf_counter()` value, steps without a clock time
            are first sent back to the day-level search (`clinic_relief`), and then (not
            in deterministic mode) the plan with clock times is polished case by case
            (`clinic_relief.polish`); None: neither.
        polish_s: Seconds before `relieve_until` kept from the relief for the polish.
        earlier: An earlier day-level assignment and its clock times (the search's
            checkpoint), used instead when it scores better (`penalised`).
        watch: Gets the polish's progress; its stop request (Ctrl-C) ends the polish.
    """
    solved = assignment
    relief_until = None if relieve_until is None else relieve_until - polish_s
    assignment, times = clock_times_with_relief(instance, assignment, repack_s, relief_until)
    clock_value = penalised(instance, times.assignment)
    if earlier is not None:
        earlier_value = penalised(instance, earlier[1].assignment)
        if earlier_value < clock_value:
            solved, (assignment, times), clock_value = earlier[0], earlier, earlier_value
    stages = {"day_level": penalised(instance, solved), "clock_times": clock_value}
    if relieve_until is not None and not instance.settings.deterministic:
        threads = min(POLISH_THREADS, instance.settings.workers)
        times = polish(
            instance, times, relieve_until, threads=threads, before=assignment, watch=watch
        )
    stages["polished"] = penalised(instance, times.assignment)
    dropped = [
        Unscheduled(instance.tasks[i].case_id, instance.tasks[i].key, why)
        for i, why in sorted(times.dropped.items())
    ]
    return _plan_of(
        instance, times.assignment, times.starts, [*not_placed, *dropped], report, method,
        greedy_value, cpsat_bound_valid=not dropped and times.assignment == solved,
        complete=lower_bound(instance, solved), stages=stages,
    )  # fmt: skip


def _plan_of(
    instance: Instance,
    assignment: Assignment,
    starts: dict[int, int],
    not_placed: list[Unscheduled],
    report: SolveReport,
    method: str,
    greedy_value: int,
    cpsat_bound_valid: bool,
    complete: BoundParts,
    stages: dict[str, int] | None = None,
) -> Plan:
    """The plan of a day-level assignment with clock times.

    The objective is `penalised`: each step left out costs at least the worst it could
    cost anywhere in the horizon, so a plan never looks better by leaving steps out. The
    bound is `complete` (our bound for the plan placing every step stage 1 placed, a
    valid lower bound for every such complete plan), or, when smaller, the bound for the
    steps this plan places plus the same penalty for the rest, so it is never above this
    plan's objective either (the penalty is counted in both; it is 0 for a complete plan).
    """
    appointments = [
        _appointment(instance, i, placed, starts[i]) for i, placed in assignment.items()
    ]
    appointments.sort(key=lambda a: (a.start, a.case_id, a.step_key))
    parts = complete
    if complete.not_scheduled != not_scheduled_penalty(instance, assignment):
        parts = min(complete, lower_bound(instance, assignment), key=lambda p: p.total)
    objective = float(penalised(instance, assignment))
    bound = float(parts.total)
    if cpsat_bound_valid and report.best_bound is not None:
        bound = max(bound, report.best_bound)
    gap = (
        0.0 if report.status == "OPTIMAL" and cpsat_bound_valid else relative_gap(objective, bound)
    )
    status = report.status if report.has_solution else "FEASIBLE"  # checked, so feasible
    final = SolveReport(
        status, objective, bound, max(0.0, gap) if objective >= bound else 0.0,
        report.wall_seconds, report.solver,
    )  # fmt: skip
    return Plan(
        appointments=tuple(appointments),
        unscheduled=tuple(instance.unscheduled + not_placed),
        cases=_case_metrics(instance, appointments),
        staff_km=_staff_km(instance, assignment),
        report=final,
        method=method,
        greedy_objective=greedy_value,
        settings=instance.settings,
        bound_parts=parts,
        cpsat_bound=report.best_bound,
        objective_parts=evaluate_parts(instance, assignment),
        stage_objectives=stages,
    )


def _appointment(
    instance: Instance, index: int, placed: tuple[int, tuple[str, ...]], start: int
) -> Appointment:
    task = instance.tasks[index]
    day, clinician_ids = placed
    begin = at_local(instance.days[day], 0, 0) + timedelta(minutes=start)
    return Appointment(
        case_id=task.case_id,
        step_key=task.key,
        title=task.step.title,
        day=instance.days[day],
        start=begin,
        end=begin + timedelta(minutes=task.minutes),
        clinician_ids=tuple(clinician_ids),
        place=task.place,
        family_facing=bool(task.family_minutes),
        booked=task.booking is not None,
        moved=moved(instance, task, (day, clinician_ids)),
    )


def gate(
    plan: Plan,
    instance: Instance,
    cases: Sequence[PlanningCase],
    clinicians: Sequence[Clinician],
) -> Plan:
    """Run the independent checker; take out each step it finds at fault (with every
    step after it) as "not scheduled yet" until the plan has no findings."""
    for round_number in range(MAX_GATE_ROUNDS + 1):
        findings = check_plan(plan, cases, clinicians)
        if not findings:
            return plan
        if round_number < MAX_GATE_ROUNDS:
            plan = _without(plan, instance, findings)
    raise PlanCheckFailed(f"the plan still breaks a rule: {findings[0]}")


def _without(plan: Plan, instance: Instance, findings: list[Finding]) -> Plan:
    index_of = {(t.case_id, t.key): t.index for t in instance.tasks}
    reasons: dict[int, str] = {}
    for finding in findings:
        index = index_of.get((finding.case_id, finding.step_key))
        if index is None or instance.tasks[index].frozen:
            continue
        reasons.setdefault(index, f"{finding.text} [{finding.rule}] (not scheduled yet)")
        for later in _after_in_pathway(instance, index, index_of):
            reasons.setdefault(later, f"waits for {finding.step_key} (not scheduled yet)")
    kept = [a for a in plan.appointments if index_of.get((a.case_id, a.step_key)) not in reasons]
    if len(kept) == len(plan.appointments):
        raise PlanCheckFailed(f"a frozen booking breaks a rule: {findings[0]}")
    dropped = [
        Unscheduled(instance.tasks[i].case_id, instance.tasks[i].key, why)
        for i, why in sorted(reasons.items())
        if any(a.case_id == instance.tasks[i].case_id and a.step_key == instance.tasks[i].key
               for a in plan.appointments)
    ]  # fmt: skip
    assignment = {
        index_of[(a.case_id, a.step_key)]: (instance.index_of(a.day), a.clinician_ids) for a in kept
    }
    starts = {index_of[(a.case_id, a.step_key)]: a.start.hour * 60 + a.start.minute for a in kept}
    known = {(u.case_id, u.step_key) for u in instance.unscheduled}
    earlier = [u for u in plan.unscheduled if (u.case_id, u.step_key) not in known]
    return _plan_of(
        instance, assignment, starts, [*earlier, *dropped], plan.report, plan.method,
        plan.greedy_objective, cpsat_bound_valid=False, complete=plan.bound_parts,
        stages=plan.stage_objectives,
    )  # fmt: skip


def _after_in_pathway(
    instance: Instance, index: int, index_of: dict[tuple[str, str], int]
) -> list[int]:
    """The tasks after task `index` in its case's pathway, transitively, except frozen
    bookings (which stay): also kept bookings, whose prerequisites the instance leaves
    out, so one round takes out a step with everything that waits for it."""
    task = instance.tasks[index]
    later = instance.cases[task.case_id].template.descendants(task.key)
    found = (index_of.get((task.case_id, key)) for key in later)
    return [i for i in found if i is not None and not instance.tasks[i].frozen]


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
