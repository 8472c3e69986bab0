"""Stage 2 of the clinic planner: clock times on the team's grid inside each working day.

Each step gets the earliest grid time where all its clinicians are inside their working
hours (not at lunch, not driving) and the family is inside its travel window; a joint step
gets one shared start. A day where packing leaves a step out is re-packed by a small CP-SAT
model; a step still without a time is moved to another day that has room, or left
"not scheduled yet" with its successors (never booked at a time that breaks a rule).
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from essence.scheduling.clinic_greedy import (
    Assignment,
    DayLoad,
    choose_clinicians,
    clinician_fits,
    family_fits,
)
from essence.scheduling.clinic_instance import Instance, Task
from essence.scheduling.solver import limit_time

#: Wall-clock limit of re-packing one day, seconds.
REPACK_DAY_S = 0.3
#: Teams a repair tries per day for a step without a clock time (`clinician_options`).
MAX_TEAMS_TRIED = 8
#: Steps a repair tries to move aside to keep a step on its day (`make_room`).
MAX_STEPS_MOVED_ASIDE = 6
DAY_END = 24 * 60

Blocks = list[tuple[int, int]]


@dataclass
class Clock:
    """Busy blocks per (resource, day) while clock times are given.

    Resources are clinician ids and ``family:<case id>``; a clinician's blocks include the
    time outside the working hours, the lunch break and the drives of a trip day.
    """

    instance: Instance
    busy: dict[tuple[str, int], Blocks] = field(default_factory=lambda: defaultdict(list))
    trips: dict[tuple[str, int], str] = field(default_factory=dict)
    prepared: set[tuple[str, int]] = field(default_factory=set)
    lunch: dict[tuple[str, int], tuple[int, int, int]] = field(default_factory=dict)
    reserved: dict[tuple[str, int], Blocks] = field(default_factory=lambda: defaultdict(list))

    def prepare(self, clinician_id: str, day: int) -> None:
        """Block a clinician's day outside the hours, at lunch and while driving."""
        key = (clinician_id, day)
        if key in self.prepared:
            return
        self.prepared.add(key)
        start, end = self.instance.hours(clinician_id, day)
        blocks = self.busy[key]
        blocks += [(0, start), (end, DAY_END)]
        lunch = self.instance.lunch(clinician_id, day)
        if lunch is not None:
            self.lunch[key] = lunch
        destination = self.trips.get(key)
        if destination:
            one_way = self.instance.one_way_minutes(clinician_id, destination)
            blocks += [(start, start + one_way), (end - one_way, end)]

    def fits(self, task: Task, day: int, clinician_ids: tuple[str, ...], start: int) -> bool:
        """True when every resource of the task is free at `start` on `day`."""
        if start % self.instance.settings.grid_minutes:
            return False
        for name, low, high in resources(task, clinician_ids, start):
            if low < 0 or high > DAY_END:
                return False
            blocks = self.busy[(name, day)]
            if any(b_low < high and low < b_high for b_low, b_high in blocks):
                return False
            lunch = self.lunch.get((name, day))
            if lunch is not None and not has_gap([*blocks, (low, high)], *lunch):
                return False
        if task.family_minutes:
            earliest, latest = task.window
            if start < earliest or start + task.minutes > latest:
                return False
        return True

    def reserve(self, task: Task, day: int, clinician_ids: tuple[str, ...], start: int) -> None:
        """Mark the task's resources busy."""
        for name, low, high in resources(task, clinician_ids, start):
            self.busy[(name, day)].append((low, high))
            self.reserved[(name, day)].append((low, high))

    def add_trip(self, clinician_id: str, day: int, destination: str) -> bool:
        """Make `day` a trip day of the clinician when the drives and lunch still fit
        around the work already reserved; True when it did."""
        key = (clinician_id, day)
        one_way = self.instance.one_way_minutes(clinician_id, destination)
        start, end = self.instance.hours(clinician_id, day)
        drives = [(start, start + one_way), (end - one_way, end)]
        work = self.reserved.get(key, [])
        if any(low < d_high and d_low < high for low, high in work for d_low, d_high in drives):
            return False
        lunch = self.instance.lunch(clinician_id, day)
        if lunch is not None and not has_gap([*work, *drives], *lunch):
            return False
        self.trips[key] = destination
        self.prepared.discard(key)
        self.busy[key] = list(work)
        self.prepare(clinician_id, day)
        return True

    def earliest(
        self, task: Task, day: int, clinician_ids: tuple[str, ...], low: int, high: int
    ) -> int | None:
        """The first grid start in [low, high] where the task fits, or None."""
        for clinician_id in clinician_ids:
            self.prepare(clinician_id, day)
        grid = self.instance.settings.grid_minutes
        start = self.instance.grid_up(max(0, low))
        while start <= high:
            if self.fits(task, day, clinician_ids, start):
                return start
            start += grid
        return None


def has_gap(blocks: Blocks, low: int, high: int, minutes: int) -> bool:
    """True when `minutes` free minutes in a row lie within [low, high] between blocks."""
    free_from = low
    for b_low, b_high in sorted(blocks):
        if b_high <= free_from:
            continue
        if min(b_low, high) - free_from >= minutes:
            return True
        free_from = max(free_from, b_high)
        if free_from >= high:
            return False
    return high - free_from >= minutes


def resources(task: Task, clinician_ids: tuple[str, ...], start: int) -> list[tuple[str, int, int]]:
    """(resource, busy from, busy until) of a task starting at `start` (minutes)."""
    travel = task.step.travel_minutes
    items = [(c, start - travel, start + task.minutes + travel) for c in clinician_ids]
    if task.family_minutes:
        items.append((f"family:{task.case_id}", start, start + task.minutes))
    return items


@dataclass
class Times:
    """The result of stage 2.

    Attributes:
        assignment: The day-level assignment after repairs (moved or dropped steps).
        starts: Start minute (after midnight) of every task in `assignment`.
        dropped: Tasks taken out of the plan, with the reason.
    """

    assignment: Assignment
    starts: dict[int, int]
    dropped: dict[int, str]


def clock_times(instance: Instance, assignment: Assignment, repack_budget_s: float = 1.0) -> Times:
    """Clock times of every assigned task, repairing steps that find no time.

    Booked steps that stay on their booked day keep their booked start when it still
    keeps every rule (a frozen booking always keeps it), and they are placed first: a
    trip the day-level plan gives a clinician for new work is only made when its drives
    fit around those booked times, else the new work goes to another day (a new referral
    never pushes a family's booked time). The rest are packed day by day in pathway
    order. Days with left-out steps are re-packed by CP-SAT while `repack_budget_s`
    seconds last; what is still left out moves to another day or is dropped with its
    successors.
    """
    deadline = time.perf_counter() + repack_budget_s
    assignment = dict(assignment)
    starts, no_trip, left_out = _first_pass(instance, assignment)

    def day_budget_s() -> float:
        if instance.settings.deterministic:
            return REPACK_DAY_S
        return min(REPACK_DAY_S, deadline - time.perf_counter())

    _repack_days(instance, assignment, starts, no_trip, left_out, day_budget_s)
    clock = _rebuild(instance, assignment, starts)
    dropped = repair(instance, clock, assignment, starts)
    return Times(assignment, starts, dropped)


def _first_pass(
    instance: Instance, assignment: Assignment, keep: dict[int, int] | None = None
) -> tuple[dict[int, int], set[int], list[int]]:
    """Booked times first (and the `keep` starts, where they still fit), then greedy
    packing of the rest. Returns the starts, the tasks whose trip cannot be made around
    booked times, and the tasks packing left without a time."""
    booked = booked_with_time(instance, assignment)
    clock = _new_clock(instance, {i: assignment[i] for i in booked})
    starts: dict[int, int] = {}
    for index in booked:
        task = instance.tasks[index]
        day, clinician_ids = assignment[index]
        start = task.booking.start_minute  # type: ignore[union-attr]
        for clinician_id in clinician_ids:
            clock.prepare(clinician_id, day)
        if task.frozen or clock.fits(task, day, clinician_ids, start):  # type: ignore[arg-type]
            starts[index] = start  # type: ignore[assignment]
            clock.reserve(task, day, clinician_ids, start)  # type: ignore[arg-type]
    no_trip = {
        index
        for index in sorted(assignment)
        if index not in starts
        and not _trips_ready(instance, clock, instance.tasks[index], *assignment[index])
    }
    for index, start in sorted((keep or {}).items(), key=lambda item: item[1]):
        if index in starts or index in no_trip or index not in assignment:
            continue
        task = instance.tasks[index]
        day, clinician_ids = assignment[index]
        low, high = same_day_bounds(instance, assignment, starts, task, day)
        for clinician_id in clinician_ids:
            clock.prepare(clinician_id, day)
        if low <= start <= high and clock.fits(task, day, clinician_ids, start):
            starts[index] = start
            clock.reserve(task, day, clinician_ids, start)
    left_out = _pack(instance, clock, assignment, starts, skip=no_trip)
    return starts, no_trip, left_out


def pack_days(
    instance: Instance,
    assignment: Assignment,
    days: set[int],
    keep: dict[int, int],
    budget_s: float = REPACK_DAY_S,
) -> tuple[dict[int, int], set[int]]:
    """Clock times of the tasks `assignment` puts on `days`, none moved to another day:
    the `keep` starts where they still fit and greedy packing around them (or afresh,
    when that leaves fewer out), then a CP-SAT re-pack of each day that leaves a step out.

    Used by `clinic_relief.polish`: a change whose days all pack needs no repair.

    Returns:
        The start (minutes after midnight) of each task that got one, and the tasks on
        those days without a time (each re-pack gets `budget_s` seconds).
    """
    on_days = {i: placed for i, placed in assignment.items() if placed[0] in days}
    starts, no_trip, left_out = _first_pass(instance, on_days, keep)
    if left_out and keep:
        fresh = _first_pass(instance, on_days)
        if len(fresh[1]) + len(fresh[2]) < len(no_trip) + len(left_out):
            starts, no_trip, left_out = fresh
    _repack_days(instance, on_days, starts, no_trip, left_out, lambda: budget_s)
    return starts, {i for i in on_days if i not in starts}


def _repack_days(
    instance: Instance,
    assignment: Assignment,
    starts: dict[int, int],
    no_trip: set[int],
    left_out: list[int],
    day_budget_s: Callable[[], float],
) -> None:
    """Re-pack by CP-SAT (`repack_day`) each day where packing left a step out, while
    `day_budget_s()` (seconds for the next day) is more than 0.01; `starts` updated."""
    for day in sorted({assignment[i][0] for i in left_out}):
        seconds = day_budget_s()
        if seconds <= 0.01:
            break
        indexes = [i for i in assignment if assignment[i][0] == day and i not in no_trip]
        better = repack_day(instance, assignment, indexes, starts, seconds)
        if better is not None:
            for index in indexes:
                starts.pop(index, None)
            starts.update(better)


def _new_clock(instance: Instance, assignment: Assignment) -> Clock:
    clock = Clock(instance)
    for index, (day, clinician_ids) in assignment.items():
        task = instance.tasks[index]
        for clinician_id in clinician_ids:
            if instance.needs_trip(task, clinician_id):
                clock.trips[(clinician_id, day)] = task.destination or ""
    return clock


def _rebuild(instance: Instance, assignment: Assignment, starts: dict[int, int]) -> Clock:
    """A clock holding the tasks that have a start, with only their trips (a task still
    without a time gets its trip again only when the drives fit around that work)."""
    clock = _new_clock(instance, {i: assignment[i] for i in starts if i in assignment})
    for index, start in starts.items():
        day, clinician_ids = assignment[index]
        for clinician_id in clinician_ids:
            clock.prepare(clinician_id, day)
        clock.reserve(instance.tasks[index], day, clinician_ids, start)
    return clock


def _pack(
    instance: Instance,
    clock: Clock,
    assignment: Assignment,
    starts: dict[int, int],
    skip: set[int] = frozenset(),  # type: ignore[assignment]
) -> list[int]:
    """Greedy packing of the tasks without a start (but `skip`); returns those that found
    no time."""
    left_out = []
    for index in packing_order(instance, assignment, set(starts) | skip):
        task = instance.tasks[index]
        day, clinician_ids = assignment[index]
        low, high = same_day_bounds(instance, assignment, starts, task, day)
        start = clock.earliest(task, day, clinician_ids, low, high)
        if start is None:
            left_out.append(index)
            continue
        starts[index] = start
        clock.reserve(task, day, clinician_ids, start)
    return left_out


def same_day_bounds(
    instance: Instance, assignment: Assignment, starts: dict[int, int], task: Task, day: int
) -> tuple[int, int]:
    """Earliest and latest start from same-day prerequisites and successors with times."""
    low, high = 0, DAY_END - task.minutes
    for pred, _ in task.preds:
        if pred in starts and assignment[pred][0] == day:
            low = max(low, starts[pred] + instance.tasks[pred].minutes)
    for other in successors_of(instance, task.index):
        if other in starts and other in assignment and assignment[other][0] == day:
            high = min(high, starts[other] - task.minutes)
    return low, high


def successors_of(instance: Instance, index: int) -> list[int]:
    """Tasks that list `index` as a direct prerequisite."""
    table = getattr(instance, "_successors", None)
    if table is None:
        table = defaultdict(list)
        for task in instance.tasks:
            for pred, _ in task.preds:
                table[pred].append(task.index)
        instance._successors = table  # type: ignore[attr-defined]
    return table[index]


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
        tails = _same_day_tails(instance, waiting)
        while waiting:
            ready = [
                i for i in waiting if not any(p in waiting for p, _ in instance.tasks[i].preds)
            ]
            best = min(ready, key=lambda i: (-tails[i], *_packing_priority(instance.tasks[i])))
            order.append(best)
            waiting.remove(best)
    return order


def _same_day_tails(instance: Instance, members: set[int]) -> dict[int, int]:
    """Minutes of the longest chain of same-day steps from each step on (itself included):
    a step that others wait for the same day is packed first."""
    tails: dict[int, int] = {}

    def tail(index: int) -> int:
        if index not in tails:
            after = [tail(o) for o in successors_of(instance, index) if o in members]
            tails[index] = instance.tasks[index].minutes + max(after, default=0)
        return tails[index]

    for index in members:
        tail(index)
    return tails


def _packing_priority(task: Task) -> tuple[int, int, int]:
    return (-len(task.step.professions), -task.minutes, task.index)


def booked_with_time(instance: Instance, assignment: Assignment) -> list[int]:
    """Tasks placed on their booked day with their booked clinicians and a booked time."""
    kept = []
    for index, (day, clinician_ids) in assignment.items():
        booking = instance.tasks[index].booking
        if booking is None or booking.start_minute is None:
            continue
        if instance.index_of(booking.day) == day and booking.clinician_ids == clinician_ids:
            kept.append(index)
    return kept


# --- re-packing a day by CP-SAT -------------------------------------------------------------


def repack_day(
    instance: Instance,
    assignment: Assignment,
    indexes: list[int],
    starts: dict[int, int],
    budget_s: float = REPACK_DAY_S,
) -> dict[int, int] | None:
    """Clock times of one day by CP-SAT, each step optional: as many minutes placed as
    possible (then earliest), no overlaps, inside hours, lunch, drives and family windows,
    same-day order and booked times kept. Returns the starts of the placed steps, or None
    when it places no more minutes than `starts` already does."""
    model = cp_model.CpModel()
    grid = instance.settings.grid_minutes
    on_grid = cp_model.Domain.from_values(range(0, DAY_END, grid))
    kept = set(booked_with_time(instance, {i: assignment[i] for i in indexes})) & set(starts)
    clock = _new_clock(instance, {i: assignment[i] for i in indexes})
    day = assignment[indexes[0]][0]
    fixed: dict[str, Blocks] = defaultdict(list)
    start_vars: dict[int, cp_model.IntVar] = {}
    present: dict[int, cp_model.IntVar] = {}
    by_resource: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
    for index in indexes:
        task = instance.tasks[index]
        clinician_ids = assignment[index][1]
        for clinician_id in clinician_ids:
            clock.prepare(clinician_id, day)
        if index in kept:
            for name, low, high in resources(task, clinician_ids, starts[index]):
                fixed[name].append((low, high))
            continue
        start = model.new_int_var_from_domain(on_grid, f"s{index}")
        is_in = model.new_bool_var(f"p{index}")
        start_vars[index], present[index] = start, is_in
        for name, low, high in resources(task, clinician_ids, 0):
            by_resource[name].append(
                model.new_optional_fixed_size_interval_var(
                    start + low, high - low, is_in, f"i{index}_{name}"
                )
            )
        model.add(start - task.step.travel_minutes >= 0)
        model.add(start + task.minutes + task.step.travel_minutes <= DAY_END)
        if task.family_minutes:
            earliest, latest = task.window
            model.add(start >= earliest).only_enforce_if(is_in)
            model.add(start + task.minutes <= latest).only_enforce_if(is_in)
    for (name, busy_day), blocks in clock.busy.items():
        if busy_day == day:
            fixed[name].extend(blocks)
    for (name, lunch_day), (low, high, minutes) in clock.lunch.items():
        if lunch_day == day:
            lunch = model.new_int_var(low, high - minutes, f"lunch_{name}")
            by_resource[name].append(model.new_fixed_size_interval_var(lunch, minutes, "l"))
    for name, blocks in fixed.items():
        for number, (low, high) in enumerate(_merged(blocks)):
            by_resource[name].append(
                model.new_fixed_size_interval_var(low, high - low, f"b_{name}_{number}")
            )
    _same_day_order(instance, indexes, starts, kept, model, start_vars, present)
    for intervals in by_resource.values():
        model.add_no_overlap(intervals)
    weight = DAY_END + 1
    placed = sum(_keep_weight(instance, i) * weight * present[i] for i in present)
    model.maximize(placed - sum(start_vars.values()))
    solver = cp_model.CpSolver()
    limit_time(solver, budget_s, deterministic=instance.settings.deterministic)
    solver.parameters.num_workers = 1
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    found = {i: starts[i] for i in kept}
    found.update(
        {i: int(solver.value(v)) for i, v in start_vars.items() if solver.value(present[i])}
    )
    before = sum(_keep_weight(instance, i) for i in indexes if i in starts)
    after = sum(_keep_weight(instance, i) for i in found)
    return found if after > before else None


def _keep_weight(instance: Instance, index: int) -> int:
    """How much keeping a step on its day is worth: its minutes, times the steps that
    would wait for it if it were dropped."""
    return instance.tasks[index].minutes * (1 + len(descendants(instance, index)))


def _same_day_order(
    instance: Instance,
    indexes: list[int],
    starts: dict[int, int],
    kept: set[int],
    model: cp_model.CpModel,
    start_vars: dict[int, cp_model.IntVar],
    present: dict[int, cp_model.IntVar],
) -> None:
    wanted = set(indexes)
    for index in indexes:
        if index in kept:
            continue
        for pred, _ in instance.tasks[index].preds:
            if pred not in wanted:
                continue
            minutes = instance.tasks[pred].minutes
            if pred in kept:
                model.add(start_vars[index] >= starts[pred] + minutes).only_enforce_if(
                    present[index]
                )
                continue
            model.add_implication(present[index], present[pred])
            model.add(start_vars[index] >= start_vars[pred] + minutes).only_enforce_if(
                present[index]
            )
        for other in successors_of(instance, index):
            if other in kept and other in wanted:
                model.add(
                    start_vars[index] + instance.tasks[index].minutes <= starts[other]
                ).only_enforce_if(present[index])


def _merged(blocks: Blocks) -> Blocks:
    """Overlapping blocks joined, so fixed intervals never overlap each other."""
    result: Blocks = []
    for low, high in sorted(b for b in blocks if b[1] > b[0]):
        if result and low <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], high))
        else:
            result.append((low, high))
    return result


# --- repair: another day, or not scheduled yet ------------------------------------------------


def repair(
    instance: Instance, clock: Clock, assignment: Assignment, starts: dict[int, int]
) -> dict[int, str]:
    """Give each task without a time another day with room (before its successors); if
    there is none, re-place it with every step after it, later if need be; what still
    finds no day is dropped (with the steps after it). Returns the dropped tasks with the
    reason. `assignment` and `starts` are updated in place."""
    dropped: dict[int, str] = {}
    load = _load_of(instance, assignment, starts)
    for task in sorted(
        (instance.tasks[i] for i in assignment if i not in starts), key=lambda t: t.index
    ):
        if task.index in dropped or task.index in starts or task.index not in assignment:
            continue
        moved = _another_day(instance, clock, load, assignment, starts, task)
        if moved is not None:
            _commit(instance, clock, load, assignment, starts, task, moved)
            continue
        room = make_room(instance, assignment, starts, task)
        if room is not None:
            clock, load = room
            continue
        clock, load = _replace_with_successors(instance, assignment, starts, task, dropped)
    return dropped


def make_room(
    instance: Instance, assignment: Assignment, starts: dict[int, int], task: Task
) -> tuple[Clock, DayLoad] | None:
    """Keep a task on its day by moving one other step of its clinicians that day to
    another day with room (within that step's own prerequisites and successors).

    Tried before the task moves with every step after it (for a team conference and the
    feedback after it that is often weeks later): the shortest steps first, at most
    `MAX_STEPS_MOVED_ASIDE` of them; booked and frozen steps never move. Returns the new
    clock and load (`assignment` and `starts` updated in place), or None (nothing changed).
    """
    day, clinician_ids = assignment[task.index]
    related = {*descendants(instance, task.index), *ancestors(instance, task.index)}
    others = sorted(
        (
            i
            for i, (other_day, other_ids) in assignment.items()
            if other_day == day
            and i in starts
            and i not in related
            and instance.tasks[i].booking is None
            and not instance.tasks[i].fixed
            and set(other_ids) & set(clinician_ids)
        ),
        key=lambda i: (instance.tasks[i].minutes, i),
    )
    on_day = {i: placed for i, placed in assignment.items() if placed[0] == day}
    for other in others[:MAX_STEPS_MOVED_ASIDE]:
        trial = {i: start for i, start in starts.items() if i != other}
        # A day's load and clock depend on that day's steps only: try the day alone first
        # (cheap), and the whole plan (a rebuild of every day) only when the day fits.
        if _start_on_its_day(instance, on_day, trial, task) is None:
            continue
        found = _start_on_its_day(instance, assignment, trial, task)
        if found is None:
            continue
        clock, load, start = found
        _commit(instance, clock, load, assignment, trial, task, (day, clinician_ids, start))
        moved = _another_day(instance, clock, load, assignment, trial, instance.tasks[other])
        if moved is None:
            continue
        _commit(instance, clock, load, assignment, trial, instance.tasks[other], moved)
        starts.clear()
        starts.update(trial)
        return clock, load
    return None


def _start_on_its_day(
    instance: Instance, assignment: Assignment, starts: dict[int, int], task: Task
) -> tuple[Clock, DayLoad, int] | None:
    """The clock and load of the steps of `assignment` with `starts` (earlier repairs may
    use the room) and the task's first start on its own day with them, or None when the
    family's day, a clinician's room, a trip or the clock has no place for it."""
    day, clinician_ids = assignment[task.index]
    starts = {i: start for i, start in starts.items() if i in assignment}
    load = _load_of(instance, assignment, starts)
    if not family_fits(instance, load, task, day) or not all(
        clinician_fits(instance, load, task, c, day) for c in clinician_ids
    ):
        return None
    clock = _rebuild(instance, assignment, starts)
    if not _trips_ready(instance, clock, task, day, clinician_ids):
        return None
    low, high = same_day_bounds(instance, assignment, starts, task, day)
    start = clock.earliest(task, day, clinician_ids, low, high)
    return None if start is None else (clock, load, start)


def ancestors(instance: Instance, index: int) -> list[int]:
    """Every task before `index` (transitively)."""
    return _reachable(index, lambda i: [pred for pred, _ in instance.tasks[i].preds])


def _replace_with_successors(
    instance: Instance,
    assignment: Assignment,
    starts: dict[int, int],
    task: Task,
    dropped: dict[int, str],
) -> tuple[Clock, DayLoad]:
    """Take the task and every step after it out, then place them again in pathway order
    on the first day with room and a clock time."""
    subtree = [task.index, *(i for i in descendants(instance, task.index) if i in assignment)]
    first_day = {i: assignment[i][0] for i in subtree}
    for index in subtree:
        assignment.pop(index, None)
        starts.pop(index, None)
    clock = _rebuild(instance, assignment, starts)
    load = _load_of(instance, assignment, starts)
    for index in sorted(subtree):
        member = instance.tasks[index]
        waiting = next((p for p, _ in member.preds if p not in assignment), None)
        if waiting is not None:
            dropped[index] = f"waits for {instance.tasks[waiting].key} (not scheduled yet)"
            continue
        moved = _another_day(instance, clock, load, assignment, starts, member)
        if moved is None:
            dropped[index] = (
                f"no clock time on {instance.days[first_day[index]]} or a later day within "
                "working hours, lunch and the family's travel window (not scheduled yet)"
            )
            continue
        _commit(instance, clock, load, assignment, starts, member, moved)
    return clock, load


def _commit(
    instance: Instance,
    clock: Clock,
    load: DayLoad,
    assignment: Assignment,
    starts: dict[int, int],
    task: Task,
    moved: tuple[int, tuple[str, ...], int],
) -> None:
    day, clinician_ids, start = moved
    assignment[task.index] = (day, clinician_ids)
    starts[task.index] = start
    clock.reserve(task, day, clinician_ids, start)
    load.add(instance, task, day, clinician_ids)


def _load_of(instance: Instance, assignment: Assignment, starts: dict[int, int]) -> DayLoad:
    load = DayLoad()
    for index, placed in assignment.items():
        if index in starts:
            load.add(instance, instance.tasks[index], *placed)
    return load


def descendants(instance: Instance, index: int) -> list[int]:
    """Every task after `index` (transitively)."""
    return _reachable(index, lambda i: successors_of(instance, i))


def _reachable(index: int, nexts: Callable[[int], Iterable[int]]) -> list[int]:
    """Every task reached from `index` by following `nexts`, in the order first found."""
    found: list[int] = []
    seen: set[int] = set()
    stack = list(nexts(index))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            found.append(current)
            stack.extend(nexts(current))
    return found


def _another_day(
    instance: Instance,
    clock: Clock,
    load: DayLoad,
    assignment: Assignment,
    starts: dict[int, int],
    task: Task,
) -> tuple[int, tuple[str, ...], int] | None:
    first, last = _day_range(instance, assignment, task)
    for day in range(max(first, task.release), last + 1):
        if task.fixed or not family_fits(instance, load, task, day):
            continue
        low, high = same_day_bounds(instance, assignment, starts, task, day)
        for clinician_ids in clinician_options(instance, load, task, day):
            if not _trips_ready(instance, clock, task, day, clinician_ids):
                continue
            start = clock.earliest(task, day, clinician_ids, low, high)
            if start is not None:
                return day, clinician_ids, start
    return None


def clinician_options(
    instance: Instance, load: DayLoad, task: Task, day: int, limit: int = MAX_TEAMS_TRIED
) -> list[tuple[str, ...]]:
    """Up to `limit` teams (one clinician per profession slot) with room on `day`: the
    greedy's choice (`choose_clinicians`) first, then other teams without a new trip.

    A joint step whose first team has no common free time that day often fits with
    another psychologist or physician, which keeps it (and every step after it) from
    moving weeks later.
    """
    first = choose_clinicians(instance, load, task, day)
    if first is None:
        return []
    ranked = []
    for slot, candidates in enumerate(task.candidates):
        fitting = [
            c
            for c in candidates
            if clinician_fits(instance, load, task, c, day)
            and (c == first[slot] or not _new_trip(instance, load, task, c, day))
        ]
        ranked.append(sorted(fitting, key=lambda c, s=slot: (c != first[s], c)))
    teams = [first]
    for team in itertools.product(*ranked):
        if len(teams) >= limit:
            break
        if len(set(team)) == len(team) and team not in teams:
            teams.append(team)
    return teams


def _new_trip(instance: Instance, load: DayLoad, task: Task, clinician_id: str, day: int) -> bool:
    return (
        instance.needs_trip(task, clinician_id)
        and load.trip.get((clinician_id, day)) != task.destination
    )


def _day_range(instance: Instance, assignment: Assignment, task: Task) -> tuple[int, int]:
    first, last = 0, instance.horizon - 1
    for pred, lag in task.preds:
        if pred in assignment:
            first = max(first, assignment[pred][0] + lag)
    for other in successors_of(instance, task.index):
        if other in assignment:
            lag = next(lag for pred, lag in instance.tasks[other].preds if pred == task.index)
            last = min(last, assignment[other][0] - lag)
    return first, last


def _trips_ready(
    instance: Instance, clock: Clock, task: Task, day: int, clinician_ids: tuple[str, ...]
) -> bool:
    """A repair adds a trip to a clinician's day only when the drives fit around the
    work already there; on a trip day the task must go to the same place."""
    for clinician_id in clinician_ids:
        trip = clock.trips.get((clinician_id, day))
        if not instance.needs_trip(task, clinician_id) or trip == task.destination:
            continue
        if trip is not None or not clock.add_trip(clinician_id, day, task.destination or ""):
            return False
    return True
