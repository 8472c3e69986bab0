"""The planning objective evaluated on a day-level assignment (same formula as the CP-SAT model).

Used to score the greedy warm start and to accept LNS improvements; see `Weights`. The
reported objective (`penalised`) adds a penalty for every step a plan leaves out.
"""

from __future__ import annotations

from collections import defaultdict

from essence.scheduling.clinic_greedy import Assignment
from essence.scheduling.clinic_instance import Instance, Task

#: Cost points the search adds for a crowded step on a trip day (`Instance.is_crowded`):
#: the clock-time stage then often moves it, or a feedback meeting away, weeks later.
#: On `clinic_scale` 300 gave a mean objective of 156.0k (22 runs, sd 1.1k, two losing
#: more than 1k at clock times, against three of eight without it); 150 gave 155.5k (nine
#: runs, sd 1.2k, two losing 4k there); 1000 gave 159.1k (nine runs: the rounds spend
#: their time moving the greedy's 105 such steps).
CROWDED_POINTS = 300


def crowded_points(instance: Instance, assignment: Assignment) -> int:
    """`CROWDED_POINTS` for each crowded step (`Instance.is_crowded`) on a trip day of one
    of its clinicians: what the search adds to the objective to keep them apart."""
    trips: set[tuple[str, int]] = set()
    crowded: list[tuple[str, int]] = []
    for index, (day, clinician_ids) in assignment.items():
        task = instance.tasks[index]
        for clinician_id in clinician_ids:
            if instance.needs_trip(task, clinician_id):
                trips.add((clinician_id, day))
            elif instance.is_crowded(task, clinician_id):
                crowded.append((clinician_id, day))
    return CROWDED_POINTS * sum(1 for key in crowded if key in trips)


def lead_offset_days(instance: Instance, case_id: str) -> int:
    """Days from the case's referral to day index 0 of the plan."""
    return (instance.settings.start - instance.cases[case_id].referral_date).days


def lateness_cost(instance: Instance, lead_days: int) -> int:
    """Cost points of one case's lead time (feedback day, lateness beyond 90 and 140 days)."""
    weights = instance.settings.weights
    return (
        weights.feedback_day * lead_days
        + weights.late_90 * max(0, lead_days - 90)
        + weights.late_140 * max(0, lead_days - 140)
    )


def moved(instance: Instance, task: Task, placed: tuple[int, tuple[str, ...]]) -> bool:
    """True when a booked task is placed on another day or with other clinicians."""
    if task.booking is None:
        return False
    booked = (instance.index_of(task.booking.day), tuple(task.booking.clinician_ids))
    return booked != (placed[0], tuple(placed[1]))


def evaluate(instance: Instance, assignment: Assignment) -> int:
    """The objective value (cost points) of an assignment."""
    weights = instance.settings.weights
    total = 0
    family_days: set[tuple[str, int]] = set()
    trips: set[tuple[str, int, str]] = set()
    used: dict[tuple[str, str], set[str]] = defaultdict(set)
    for task in instance.tasks:
        if task.index not in assignment:
            continue
        day, clinician_ids = assignment[task.index]
        if task.is_feedback:
            total += lateness_cost(instance, day + lead_offset_days(instance, task.case_id))
        if not task.fixed:
            total += weights.step_day * day
        if task.family_minutes:
            family_days.add((task.case_id, day))
        if moved(instance, task, (day, clinician_ids)):
            total += weights.move
        for profession, clinician_id in zip(task.step.professions, clinician_ids, strict=True):
            used[(task.case_id, profession.value)].add(clinician_id)
            if instance.needs_trip(task, clinician_id):
                trips.add((clinician_id, day, task.destination or ""))
    total += weights.visit_day * len(family_days)
    total += weights.staff_km * sum(instance.trip_km(c, m) for c, _, m in trips)
    total += weights.continuity * sum(len(ids) - 1 for ids in used.values())
    return total


def leave_out_penalty(instance: Instance, task: Task) -> int:
    """Cost points of leaving `task` out of a plan ("not scheduled yet").

    At least the most placing it on any day of the horizon could add to `evaluate`: its
    step-day cost and, for the feedback meeting, the lead-time cost (with lateness) on the
    last day of the horizon (or its booked day, when later), plus a visit day when the
    family attends, the longest trip of each profession slot's candidates, one extra
    clinician per profession and a moved booking. So a plan never scores better by
    leaving a step out than by placing it anywhere it fits.
    """
    weights = instance.settings.weights
    last = instance.horizon - 1
    if task.booking is not None:
        last = max(last, instance.index_of(task.booking.day))
    points = 0 if task.fixed else weights.step_day * last
    if task.is_feedback:
        points += lateness_cost(instance, last + lead_offset_days(instance, task.case_id))
    points += weights.visit_day if task.family_minutes else 0
    points += weights.move if task.booking is not None else 0
    points += weights.continuity * len(task.step.professions)
    for slot in task.candidates:
        trips = [
            instance.trip_km(c, task.destination) for c in slot if instance.needs_trip(task, c)
        ]
        points += weights.staff_km * max(trips, default=0)
    return points


def not_scheduled_penalty(instance: Instance, assignment: Assignment) -> int:
    """Cost points of every step `assignment` leaves out: `leave_out_penalty` of each task
    not in it, and for steps no plan of the instance can place (`Instance.unscheduled`) the
    step-day and, for a feedback meeting, lead-time cost on the last day of the horizon."""
    points = sum(
        leave_out_penalty(instance, task) for task in instance.tasks if task.index not in assignment
    )
    weights, last = instance.settings.weights, instance.horizon - 1
    for step in instance.unscheduled:
        case = instance.cases[step.case_id]
        points += weights.step_day * last
        if step.step_key == case.template.feedback_key:
            points += lateness_cost(instance, last + lead_offset_days(instance, step.case_id))
    return points


def penalised(instance: Instance, assignment: Assignment) -> int:
    """The reported objective: `evaluate` plus `not_scheduled_penalty`, so that a plan
    that leaves steps out never looks better than one that places them."""
    return evaluate(instance, assignment) + not_scheduled_penalty(instance, assignment)


def evaluate_parts(instance: Instance, assignment: Assignment) -> dict[str, int]:
    """The objective split like `clinic_bound.BoundParts` (plus moves), to compare part by
    part where the gap to the bound is; "not_scheduled" is `not_scheduled_penalty` and the
    total is `penalised`."""
    weights = instance.settings.weights
    parts = dict.fromkeys(("lead", "step_days", "visit_days", "staff_km", "continuity", "moves"), 0)
    family_days: set[tuple[str, int]] = set()
    trips: set[tuple[str, int, str]] = set()
    used: dict[tuple[str, str], set[str]] = defaultdict(set)
    for task in instance.tasks:
        if task.index not in assignment:
            continue
        day, clinician_ids = assignment[task.index]
        if task.is_feedback:
            parts["lead"] += lateness_cost(instance, day + lead_offset_days(instance, task.case_id))
        if not task.fixed:
            parts["step_days"] += weights.step_day * day
        if task.family_minutes:
            family_days.add((task.case_id, day))
        if moved(instance, task, (day, clinician_ids)):
            parts["moves"] += weights.move
        for profession, clinician_id in zip(task.step.professions, clinician_ids, strict=True):
            used[(task.case_id, profession.value)].add(clinician_id)
            if instance.needs_trip(task, clinician_id):
                trips.add((clinician_id, day, task.destination or ""))
    parts["visit_days"] = weights.visit_day * len(family_days)
    parts["staff_km"] = weights.staff_km * sum(instance.trip_km(c, m) for c, _, m in trips)
    parts["continuity"] = weights.continuity * sum(len(ids) - 1 for ids in used.values())
    parts["not_scheduled"] = not_scheduled_penalty(instance, assignment)
    parts["total"] = sum(parts.values())
    return parts
