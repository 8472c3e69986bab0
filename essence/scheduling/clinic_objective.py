"""The planning objective evaluated on a day-level assignment (same formula as the CP-SAT model).

Used to score the greedy warm start and to accept LNS improvements; see `Weights`.
"""

from __future__ import annotations

from collections import defaultdict

from essence.scheduling.clinic_greedy import Assignment
from essence.scheduling.clinic_instance import Instance, Task


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


def evaluate_parts(instance: Instance, assignment: Assignment) -> dict[str, int]:
    """The objective split like `clinic_bound.BoundParts` (plus moves), to compare part by
    part where the gap to the bound is."""
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
    parts["total"] = sum(parts.values())
    return parts
