"""Stage 2 of the clinic planner: clock times inside each day, by deterministic packing.

Each step gets the earliest start where all its clinicians and the family are free, after
same-day prerequisites and after the drive out; a joint step gets one shared start time.
A day whose packing runs past the working day is re-packed by a small CP-SAT model.
"""

from __future__ import annotations

import time
from collections import defaultdict

from ortools.sat.python import cp_model

from essence.scheduling.clinic_greedy import Assignment
from essence.scheduling.clinic_instance import Instance, Task

Busy = dict[tuple[str, int], list[tuple[int, int]]]


#: Wall-clock limit of re-packing one day, seconds.
REPACK_DAY_S = 0.3


def clock_times(
    instance: Instance, assignment: Assignment, repack_budget_s: float = 1.0
) -> dict[int, int]:
    """Start minute (after midnight) of every assigned task.

    Booked steps that stay on their booked day keep their booked start minute; the rest
    are packed in pathway order, oldest referral first. Days that run past the working
    day are then re-packed by CP-SAT while `repack_budget_s` seconds last.
    """
    deadline = time.perf_counter() + repack_budget_s
    busy: Busy = defaultdict(list)
    starts: dict[int, int] = {}
    _reserve_outbound_drives(instance, assignment, busy)
    for index in _booked_with_time(instance, assignment):
        task = instance.tasks[index]
        starts[index] = task.booking.start_minute  # type: ignore[union-attr]
        _reserve(busy, task, assignment[index], starts[index])
    for index in packing_order(instance, assignment, set(starts)):
        task = instance.tasks[index]
        start = _earliest_free(instance, busy, task, assignment, starts)
        starts[index] = start
        _reserve(busy, task, assignment[index], start)
    deterministic = instance.settings.deterministic
    for day in sorted({assignment[i][0] for i in _overruns(instance, assignment, starts)}):
        left = REPACK_DAY_S if deterministic else deadline - time.perf_counter()
        if left <= 0.01:
            break
        indexes = [i for i in assignment if assignment[i][0] == day]
        better = repack_day(instance, assignment, indexes, starts, min(REPACK_DAY_S, left))
        if better is not None:
            starts.update(better)
    return starts


def packing_order(instance: Instance, assignment: Assignment, placed: set[int]) -> list[int]:
    """Day by day; within a day, of the steps whose same-day prerequisites are placed,
    the one with most clinicians first (a joint step needs a common free slot), then the
    longest, then pathway order."""
    by_day: dict[int, list[int]] = defaultdict(list)
    for index in assignment:
        if index not in placed:
            by_day[assignment[index][0]].append(index)
    order: list[int] = []
    for day in sorted(by_day):
        waiting = set(by_day[day])
        while waiting:
            ready = [
                i for i in waiting if not any(p in waiting for p, _ in instance.tasks[i].preds)
            ]
            best = min(ready, key=lambda i: _packing_priority(instance.tasks[i]))
            order.append(best)
            waiting.remove(best)
    return order


def _packing_priority(task: Task) -> tuple[int, int, int]:
    return (-len(task.step.professions), -task.step.minutes, task.index)


def _close(instance: Instance) -> int:
    return instance.settings.day_start_minute + instance.settings.workday_minutes


def _overruns(instance: Instance, assignment: Assignment, starts: dict[int, int]) -> list[int]:
    close = _close(instance)
    return [i for i in assignment if _end(instance.tasks[i], starts[i]) > close]


def _end(task: Task, start: int) -> int:
    return start + task.step.minutes + task.step.travel_minutes


def repack_day(
    instance: Instance,
    assignment: Assignment,
    indexes: list[int],
    starts: dict[int, int],
    budget_s: float = REPACK_DAY_S,
) -> dict[int, int] | None:
    """Clock times of one day by CP-SAT: no overlaps, same-day order, booked times kept,
    least minutes past the working day (then earliest). None if it does not improve."""
    model = cp_model.CpModel()
    opens, close = instance.settings.day_start_minute, _close(instance)
    start_vars, late_vars = {}, []
    kept = set(_booked_with_time(instance, {i: assignment[i] for i in indexes}))
    by_resource: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
    for index in indexes:
        task = instance.tasks[index]
        before = task.step.travel_minutes
        low = starts[index] if index in kept else opens + before
        high = starts[index] if index in kept else 24 * 60 - task.step.minutes - before
        start = model.new_int_var(low, max(low, high), f"s{index}")
        start_vars[index] = start
        for name, pad_before, pad_after in _resources(task, assignment[index][1]):
            size = task.step.minutes + pad_before + pad_after
            interval = model.new_fixed_size_interval_var(start - pad_before, size, f"i{index}")
            by_resource[_plain(name)].append(interval)
        late = model.new_int_var(0, 24 * 60, f"late{index}")
        model.add(late >= start + task.step.minutes + before - close)
        late_vars.append(late)
    _add_drives_and_order(instance, assignment, indexes, model, start_vars, by_resource)
    for intervals in by_resource.values():
        model.add_no_overlap(intervals)
    model.minimize(1000 * sum(late_vars) + sum(start_vars.values()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = budget_s
    if instance.settings.deterministic:
        solver.parameters.max_deterministic_time = budget_s
        solver.parameters.max_time_in_seconds = 20 * budget_s
    solver.parameters.num_workers = 1
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    found = {i: int(solver.value(v)) for i, v in start_vars.items()}
    before_late = sum(max(0, _end(instance.tasks[i], starts[i]) - close) for i in indexes)
    after_late = sum(max(0, _end(instance.tasks[i], found[i]) - close) for i in indexes)
    return found if after_late < before_late else None


def _add_drives_and_order(
    instance: Instance,
    assignment: Assignment,
    indexes: list[int],
    model: cp_model.CpModel,
    start_vars: dict[int, cp_model.IntVar],
    by_resource: dict[str, list[cp_model.IntervalVar]],
) -> None:
    busy: Busy = defaultdict(list)
    _reserve_outbound_drives(instance, {i: assignment[i] for i in indexes}, busy)
    for (clinician_id, _), blocks in busy.items():
        for low, high in blocks:
            by_resource[clinician_id].append(
                model.new_fixed_size_interval_var(low, high - low, f"drive_{clinician_id}")
            )
    for index in indexes:
        for pred, _ in instance.tasks[index].preds:
            if pred in start_vars:
                minutes = instance.tasks[pred].step.minutes
                model.add(start_vars[index] >= start_vars[pred] + minutes)


def _booked_with_time(instance: Instance, assignment: Assignment) -> list[int]:
    kept = []
    for index, (day, clinician_ids) in assignment.items():
        booking = instance.tasks[index].booking
        if booking is None or booking.start_minute is None:
            continue
        if instance.index_of(booking.day) == day and booking.clinician_ids == clinician_ids:
            kept.append(index)
    return kept


def _reserve_outbound_drives(instance: Instance, assignment: Assignment, busy: Busy) -> None:
    trips: set[tuple[str, int, str]] = set()
    for index, (day, clinician_ids) in assignment.items():
        task = instance.tasks[index]
        for clinician_id in clinician_ids:
            if instance.needs_trip(task, clinician_id):
                trips.add((clinician_id, day, task.destination or ""))
    start = instance.settings.day_start_minute
    for clinician_id, day, destination in trips:
        one_way = instance.trip_minutes(clinician_id, destination) // 2
        busy[(clinician_id, day)].append((start, start + one_way))


def _resources(task: Task, clinician_ids: tuple[str, ...]) -> list[tuple[str, int, int]]:
    """(resource, minutes before, minutes after) the appointment the resource is busy."""
    travel = task.step.travel_minutes
    resources = [(f"clinician:{c}", travel, travel) for c in clinician_ids]
    if task.family_minutes:
        resources.append((f"family:{task.case_id}", 0, 0))
    return resources


def _reserve(busy: Busy, task: Task, placed: tuple[int, tuple[str, ...]], start: int) -> None:
    day, clinician_ids = placed
    for name, before, after in _resources(task, clinician_ids):
        busy[(_plain(name), day)].append((start - before, start + task.step.minutes + after))


def _plain(name: str) -> str:
    """Clinician resources are keyed by id (as the outbound drives are)."""
    return name.removeprefix("clinician:")


def _earliest_free(
    instance: Instance, busy: Busy, task: Task, assignment: Assignment, starts: dict[int, int]
) -> int:
    day, clinician_ids = assignment[task.index]
    start = instance.settings.day_start_minute + task.step.travel_minutes
    for pred, _ in task.preds:
        if pred in assignment and assignment[pred][0] == day and pred in starts:
            start = max(start, starts[pred] + instance.tasks[pred].step.minutes)
    resources = _resources(task, clinician_ids)
    moved = True
    while moved:
        moved = False
        for name, before, after in resources:
            for low, high in busy[(_plain(name), day)]:
                if start - before < high and low < start + task.step.minutes + after:
                    start = high + before
                    moved = True
    return start
