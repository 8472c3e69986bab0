"""The greedy list scheduler: a feasible day-level plan in milliseconds, the CP-SAT warm start.

Cases go oldest referral first; each case's steps in pathway order go to the earliest day
that fits every rule, preferring a day the family already comes and the same clinician.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field

from essence.scheduling.clinic_instance import Instance, Task, planning_lag
from essence.scheduling.clinic_problem import Unscheduled

#: Task index -> (day index, clinician ids in the step's profession order).
Assignment = dict[int, tuple[int, tuple[str, ...]]]

#: A family step may wait this many days for a day the family already comes.
BUNDLE_SLACK_DAYS = 3


@dataclass
class DayLoad:
    """Running load of clinicians and families while steps are placed.

    Attributes:
        minutes: Clinical minutes per (clinician, day).
        trip: Municipality a clinician travels to per (clinician, day).
        travel_minutes: Round-trip minutes per (clinician, day).
        base_in_person: In-person steps at the clinician's base per (clinician, day).
        family_minutes: Family minutes per (case, day).
        family_days: Days each case's family comes.
        family_place: Where the family meets the team in person per (case, day).
        used: Clinicians already seeing a case, per (case, profession).
        slot: Minutes on the clock grid per (clinician, day) (see `Instance.slot_minutes`).
        crowded: Crowded steps per (clinician, day) (`Instance.is_crowded`; on a trip
            day each costs the CP-SAT search `CROWDED_POINTS`).
    """

    minutes: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    trip: dict[tuple[str, int], str] = field(default_factory=dict)
    travel_minutes: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    base_in_person: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    family_minutes: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    family_days: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    family_place: dict[tuple[str, int], str] = field(default_factory=dict)
    used: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    slot: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    crowded: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))

    def add(self, instance: Instance, task: Task, day: int, clinician_ids: tuple[str, ...]) -> None:
        """Record a task placed on `day` with `clinician_ids`."""
        for profession, clinician_id in zip(task.step.professions, clinician_ids, strict=True):
            key = (clinician_id, day)
            costs = instance.day_costs(task, clinician_id)
            self.minutes[key] += task.staff_minutes
            self.slot[key] += costs.slot_minutes
            if costs.trip is not None and key not in self.trip:
                self.trip[key] = costs.trip
                self.travel_minutes[key] = costs.trip_block_minutes
            if costs.at_base_in_person:
                self.base_in_person[key] += 1
            if costs.crowded:
                self.crowded[key] += 1
            if clinician_id not in self.used[(task.case_id, profession)]:
                self.used[(task.case_id, profession)].append(clinician_id)
        if task.family_minutes:
            self.family_minutes[(task.case_id, day)] += task.family_minutes
            self.family_days[task.case_id].add(day)
            if task.destination is not None:
                self.family_place.setdefault((task.case_id, day), task.destination)


def clinician_fits(
    instance: Instance, load: DayLoad, task: Task, clinician_id: str, day: int
) -> bool:
    """True when the clinician can take the task on `day` (minutes, travel, workday)."""
    capacity = instance.capacity[clinician_id][day]
    key = (clinician_id, day)
    if capacity <= 0 or load.minutes[key] + task.staff_minutes > capacity:
        return False
    costs = instance.day_costs(task, clinician_id)
    extra_travel = 0
    if costs.trip is not None:
        trip = load.trip.get(key)
        if trip is not None and trip != task.destination:
            return False
        if trip is None:
            if load.base_in_person[key] > 0:
                return False
            extra_travel = costs.trip_block_minutes
    elif costs.at_base_in_person and key in load.trip:
        return False
    used = load.slot[key] + costs.slot_minutes + load.travel_minutes[key] + extra_travel
    return used <= instance.span[clinician_id][day]


def crowds_trip_day(
    instance: Instance, load: DayLoad, task: Task, clinician_id: str, day: int
) -> bool:
    """True when the task would put a crowded step (`Instance.is_crowded`) and a trip on
    the same day of the clinician, given `load` (the CP-SAT model counts such a step at
    `CROWDED_POINTS`; the greedy, whose every step must find a day, does not)."""
    key = (clinician_id, day)
    costs = instance.day_costs(task, clinician_id)
    if costs.crowded:
        return key in load.trip
    return costs.trip is not None and key not in load.trip and load.crowded[key] > 0


def family_fits(instance: Instance, load: DayLoad, task: Task, day: int) -> bool:
    """True when the family's day stays within the minutes a child can manage and all its
    in-person steps that day are in one place (one visit per calendar day)."""
    if not task.family_minutes:
        return True
    if day in task.blocked_days:
        return False
    place = load.family_place.get((task.case_id, day))
    if task.destination is not None and place not in (None, task.destination):
        return False
    total = load.family_minutes[(task.case_id, day)] + task.family_minutes
    return total <= instance.family_limit(task.case_id)


def choose_clinicians(
    instance: Instance, load: DayLoad, task: Task, day: int
) -> tuple[str, ...] | None:
    """One free clinician per profession slot on `day` (continuity first), or None."""
    chosen: list[str] = []
    for profession, candidates in zip(task.step.professions, task.candidates, strict=True):
        previous = load.used[(task.case_id, profession)]
        ranked = sorted(
            candidates,
            key=lambda c: (
                instance.needs_trip(task, c) and load.trip.get((c, day)) != task.destination,
                c not in previous,
                load.minutes[(c, day)],
                c,
            ),
        )
        pick = next(
            (c for c in ranked if c not in chosen and clinician_fits(instance, load, task, c, day)),
            None,
        )
        if pick is None:
            return None
        chosen.append(pick)
    return tuple(chosen)


def greedy_schedule(instance: Instance) -> tuple[Assignment, list[Unscheduled]]:
    """Place every task greedily; tasks that do not fit go to `unscheduled` with a reason.

    Returns:
        The assignment (task -> day index and clinicians) and the steps not placed.
    """
    load = DayLoad()
    assignment: Assignment = {}
    for task in instance.tasks:
        if task.fixed and task.booking is not None:
            placed = (instance.index_of(task.booking.day), task.booking.clinician_ids)
            assignment[task.index] = placed
            load.add(instance, task, *placed)
    unscheduled: list[Unscheduled] = []
    for task in task_order(instance):
        if task.index in assignment:
            continue
        waiting = [instance.tasks[p] for p, _ in task.preds if p not in assignment]
        if waiting:
            reason = f"waits for {waiting[0].key} (not scheduled yet)"
            unscheduled.append(Unscheduled(task.case_id, task.key, reason))
            continue
        placed = _place(instance, load, task, assignment)
        if placed is None:
            unscheduled.append(Unscheduled(task.case_id, task.key, _no_fit_reason(instance, task)))
            continue
        assignment[task.index] = placed
        load.add(instance, task, *placed)
    return assignment, unscheduled


def task_order(instance: Instance) -> list[Task]:
    """Tasks so that each comes after its prerequisites, otherwise in index order."""
    waiting = {t.index: len(t.preds) for t in instance.tasks}
    successors: dict[int, list[int]] = defaultdict(list)
    for task in instance.tasks:
        for pred, _ in task.preds:
            successors[pred].append(task.index)
    ready = [i for i, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[Task] = []
    while ready:
        index = heapq.heappop(ready)
        order.append(instance.tasks[index])
        for successor in successors[index]:
            waiting[successor] -= 1
            if waiting[successor] == 0:
                heapq.heappush(ready, successor)
    return order


def earliest_day(instance: Instance, task: Task, assignment: Assignment) -> int:
    """Earliest day index allowed by the release day and the placed prerequisites."""
    day = task.release
    for pred, lag in task.preds:
        day = max(day, assignment[pred][0] + planning_lag(instance, task, pred, lag))
    return day


def _place(
    instance: Instance, load: DayLoad, task: Task, assignment: Assignment
) -> tuple[int, tuple[str, ...]] | None:
    """Earliest fitting day, or a day within the slack the family already comes or a
    clinician already drives to the same municipality (bundling, ambulating)."""
    start = earliest_day(instance, task, assignment)
    booked = _keep_booking(instance, load, task, start)
    if booked is not None:
        return booked
    first: tuple[int, tuple[str, ...]] | None = None
    for day in range(max(0, start), instance.horizon):
        if first is not None and day > first[0] + BUNDLE_SLACK_DAYS:
            break
        if not family_fits(instance, load, task, day):
            continue
        clinicians = choose_clinicians(instance, load, task, day)
        if clinicians is None:
            continue
        if not _could_share(task) or _shares(instance, load, task, day, clinicians):
            return day, clinicians
        if first is None:
            first = (day, clinicians)
    return first


def _could_share(task: Task) -> bool:
    """True when the task could join a family day or a trip (so waiting may pay off)."""
    return bool(task.family_minutes) or task.destination is not None


def _shares(
    instance: Instance, load: DayLoad, task: Task, day: int, clinician_ids: tuple[str, ...]
) -> bool:
    if task.family_minutes and day in load.family_days[task.case_id]:
        return True
    return any(
        instance.needs_trip(task, c) and load.trip.get((c, day)) == task.destination
        for c in clinician_ids
    )


def _keep_booking(
    instance: Instance, load: DayLoad, task: Task, start: int
) -> tuple[int, tuple[str, ...]] | None:
    """A movable booking stays where it was when it still fits."""
    if task.booking is None:
        return None
    day = instance.index_of(task.booking.day)
    ids = task.booking.clinician_ids
    if day < start or day >= instance.horizon or not family_fits(instance, load, task, day):
        return None
    if all(clinician_fits(instance, load, task, c, day) for c in ids):
        return day, ids
    return None


def _no_fit_reason(instance: Instance, task: Task) -> str:
    weeks = instance.settings.horizon_weeks
    professions = " + ".join(p.value for p in task.step.professions)
    return (
        f"does not fit in the {weeks}-week horizon: no day with {task.staff_minutes} free "
        f"minutes for {professions}"
        + (f" incl. travel to {task.destination}" if task.destination else "")
    )
