"""Clock times with relief: steps stage 2 could not keep on their day go back to stage 1.

A step the clock-time stage cannot place on its day is moved by the repair to the first
day with room, often weeks later (with every step after it). Instead, while time is left,
the step is kept off that day (`Instance.avoid`) and its case re-solved at day level with
every other case fixed; the clock times of that plan are kept when they are better.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import NamedTuple

import numpy as np

from essence.scheduling.clinic_cpsat import (
    Neighbourhoods,
    focus_neighbourhood,
    hinted_anywhere,
    merged,
    relieve,
    replace_cases,
    run_in_threads,
)
from essence.scheduling.clinic_greedy import Assignment
from essence.scheduling.clinic_instance import Instance
from essence.scheduling.clinic_objective import evaluate, penalised
from essence.scheduling.clinic_times import Times, clock_times, pack_days
from essence.scheduling.progress import Watch

#: At most this many relief rounds (each: one day-level re-solve and clock times again).
MAX_RELIEF_ROUNDS = 3
#: Seconds a relief round's re-solves may take at most.
RELIEF_SOLVE_S = 1.0
#: A relief re-solve frees this many other cases of the failed step's clinicians ...
NEIGHBOURS = 2
#: ... with steps within this many days of its day.
NEAR_DAYS = 3


def clock_times_with_relief(
    instance: Instance, assignment: Assignment, repack_s: float, deadline: float | None
) -> tuple[Assignment, Times]:
    """Clock times of `assignment`, relieved until `deadline` (a `time.perf_counter()`
    value; None: no relief; with deterministic settings the rounds count, not the clock).

    Returns:
        The day-level assignment used and its clock times (the best seen: fewest dropped
        steps, then the lowest objective).
    """
    started = time.perf_counter()
    times = clock_times(instance, assignment, repack_s)
    clock_s = time.perf_counter() - started
    best = (assignment, times)
    for _ in range(MAX_RELIEF_ROUNDS if deadline is not None else 0):
        current, current_times = best
        failed = _first_failures(instance, current, current_times)
        left = _seconds_left(instance, deadline, clock_s)  # type: ignore[arg-type]
        if not failed or left < clock_s + 0.3:
            break
        for index in failed:
            instance.avoid.setdefault(index, set()).add(current[index][0])
        started = time.perf_counter()
        solve_s = min(RELIEF_SOLVE_S, left - clock_s - 0.1)
        candidate = _relieve_each(instance, current, failed, started + solve_s)
        if candidate is None:
            break
        repack_left = max(0.1, left - (time.perf_counter() - started))
        started = time.perf_counter()
        candidate_times = clock_times(instance, candidate, repack_left)
        clock_s = time.perf_counter() - started
        if _score(instance, candidate_times) < _score(instance, current_times):
            best = (candidate, candidate_times)
    return best


class ClockCheckpoint:
    """Clock times of the day-level search's best at its checkpoints (see
    `clinic_cpsat.solve_day_level`): the steps left out of their day there are kept off
    it from then on (`Instance.avoid`), and the best plan checked (`penalised`) is kept
    in case the final one scores worse after clock times.

    Attributes:
        result: The best assignment checked and its clock times (None before the first).
    """

    def __init__(self, instance: Instance, repack_s: float) -> None:
        self.instance = instance
        self.repack_s = repack_s
        self.result: tuple[Assignment, Times] | None = None

    def __call__(self, assignment: Assignment) -> list[int]:
        """Clock times of `assignment`; returns the steps that lost their day."""
        times = clock_times(self.instance, assignment, self.repack_s)
        if self.result is None or penalised(self.instance, times.assignment) < penalised(
            self.instance, self.result[1].assignment
        ):
            self.result = (assignment, times)
        failed = _first_failures(self.instance, assignment, times)
        for index in failed:
            self.instance.avoid.setdefault(index, set()).add(assignment[index][0])
        return failed


def polish(
    instance: Instance,
    times: Times,
    deadline: float,
    threads: int = 1,
    before: Assignment | None = None,
    watch: Watch | None = None,
) -> Times:
    """A plan with clock times made better by LNS rounds whose every kept change still
    gives each step a clock time, until the deadline (or until it comes to rest).

    First each step the clock-time stage dropped is placed again anywhere in the horizon
    with its case and the cases busiest around the days the day-level plan gave it and
    its prerequisites, and around where its prerequisites are now (`_around_dropped`;
    again every `RESCUE_EVERY_ROUNDS` rounds while one is still out, on the plan as it
    is then, since the rounds meanwhile may have made room);
    then each case alone (`replace_cases`), beginning with the cases the clock-time stage
    changed (their steps dropped, or moved from their day in `before`, the day-level
    plan) since they lost most; then the rounds go on with the search's neighbourhoods
    (`clinic_cpsat.Neighbourhoods`). A
    result is kept when the objective falls and every day it adds a step to still packs
    (`clinic_times.pack_days`); packing runs outside the lock, so rounds in other threads
    go on meanwhile. The day-level search cannot see clock times, so a plan polished this
    way never loses points at clock times. A step the clock-time stage dropped is placed
    again with its case (its penalty goes). With `threads` >= 2 that many rounds run at
    once (CP-SAT releases the GIL while it solves). Draws use a numpy Generator seeded by
    `settings.seed`. The polish stops early after `POLISH_STALL_ROUNDS_PER_CASE` rounds
    per case in a row that keep nothing (a small plan comes to rest), and at once on the
    `watch`'s stop request (Ctrl-C); each better plan is reported to it. The plan never
    gets worse and needs no repair.
    """
    watch = watch or Watch()
    watch.report(stage="polish")
    state = _Polish(instance, times, watch)
    # Every change is checked with clock times here, so the days the search was kept off
    # (`Instance.avoid`) are open again.
    anywhere = dataclasses.replace(instance, avoid={})
    tasks = instance.tasks
    every = hinted_anywhere(instance, times.assignment, sorted(times.dropped))
    draws = Neighbourhoods(anywhere, every, np.random.default_rng(instance.settings.seed))
    lost = {tasks[i].case_id for i in times.dropped}
    if before is not None:
        lost |= _changed_cases(instance, before, times.assignment)
    first = sorted(lost & set(draws.case_ids))
    draws.queue = [
        *_around_dropped(instance, times, before),
        *(({c}, True) for c in [*first, *(c for c in draws.case_ids if c not in lost)]),
    ]
    stall_limit = POLISH_STALL_ROUNDS_PER_CASE * len(draws.case_ids)
    next_rescue = len(draws.queue) + RESCUE_EVERY_ROUNDS

    def work() -> None:
        nonlocal next_rescue
        while time.perf_counter() < deadline - 0.05 and not watch.stopped:
            with state.lock:
                if state.dropped and not draws.queue and draws.rounds >= next_rescue:
                    draws.queue = _around_dropped(instance, state.times(), before)
                    next_rescue = draws.rounds + RESCUE_EVERY_ROUNDS
                drawn = None if state.stalled >= stall_limit else draws.draw(state.assignment)
            if drawn is None:
                return
            kept = state.replace(anywhere, *drawn, deadline)
            with state.lock:
                state.stalled = 0 if kept else state.stalled + 1

    run_in_threads([work] * max(1, threads))
    return state.times()


def _around_dropped(
    instance: Instance, times: Times, before: Assignment | None = None
) -> list[tuple[set[str], bool]]:
    """For each dropped step, its case with the cases busiest around the day of each of
    its placed prerequisites (`focus_neighbourhood`), to place anywhere: a step dropped
    for want of a clinician's time often needs another case moved to fit. With `before`
    (the day-level plan) first around the days it gave the dropped step and its
    prerequisites: the search chose those days, and the repair that moved a step from
    there (with what waits for it) often left it no room; other cases moved off them
    make room."""
    rounds: list[tuple[set[str], bool]] = []

    def add(chosen: set[str]) -> None:
        if (chosen, True) not in rounds:
            rounds.append((chosen, True))

    for index in sorted(times.dropped):
        preds = [pred for pred, _ in instance.tasks[index].preds]
        if before is not None:
            for step in (index, *preds):
                if step in before:
                    add(focus_neighbourhood(instance, times.assignment, step, before[step]))
        for pred in preds:
            if pred in times.assignment:
                add(focus_neighbourhood(instance, times.assignment, pred))
    return rounds


#: `polish` stops after this many rounds per case in a row that keep nothing.
POLISH_STALL_ROUNDS_PER_CASE = 2
#: While a dropped step is still out, `polish` tries its rescue rounds (`_around_dropped`,
#: on the plan as it is then) again every this many rounds.
RESCUE_EVERY_ROUNDS = 60
#: Times `polish` re-places a case again, kept off the days that did not pack.
POLISH_RETRIES = 2


class Snapshot(NamedTuple):
    """The polish's plan as a round found it: assignment, starts and objective."""

    assignment: Assignment
    starts: dict[int, int]
    value: int


class _Polish:
    """The plan `polish` improves: assignment, clock times, dropped steps, objective, a
    version that counts the changes kept (rounds in other threads compare it) and, per
    version, the days and cases its change touched."""

    def __init__(self, instance: Instance, times: Times, watch: Watch | None = None) -> None:
        self.instance = instance
        self.watch = watch or Watch()
        self.assignment, self.starts = dict(times.assignment), dict(times.starts)
        self.dropped = dict(times.dropped)
        self.value = penalised(instance, self.assignment)
        self.version = 0
        self.history: list[tuple[set[int], set[str]]] = []
        self.stalled = 0  # rounds in a row that kept nothing
        self.lock = threading.Lock()

    def replace(
        self, instance: Instance, case_ids: set[str], anywhere: bool, deadline: float
    ) -> bool:
        """Re-place the cases (`replace_cases` on `instance`, anywhere in the horizon or
        near their days) and offer the result; True when a change was kept. When a day it
        adds a step to does not pack (the day-level model cannot see clock times, and its
        best is often the very day that failed), try again, up to `POLISH_RETRIES` times,
        with each step left without a time kept off its day and its case re-placed too."""
        avoid: dict[int, set[int]] = {}
        chosen = set(case_ids)
        for _ in range(1 + POLISH_RETRIES):
            with self.lock:
                base = self.with_dropped(chosen)
                version, snapshot = self.version, self.snapshot()
            kept_off = dataclasses.replace(instance, avoid=avoid) if avoid else instance
            candidate = replace_cases(kept_off, base, chosen, deadline, anywhere)
            kept, missing = self._offer(candidate, chosen, version, snapshot)
            if not missing or candidate is None:
                return kept
            for index in missing:
                avoid.setdefault(index, set()).add(candidate[index][0])
            chosen |= {self.instance.tasks[i].case_id for i in missing}
        return False

    def times(self) -> Times:
        """The plan now with its clock times and dropped steps (call under the lock, or
        when no round runs)."""
        return Times(self.assignment, self.starts, self.dropped)

    def snapshot(self) -> Snapshot:
        """The plan now (call under the lock)."""
        return Snapshot(self.assignment, self.starts, self.value)

    def with_dropped(self, case_ids: set[str]) -> Assignment:
        """The assignment with the cases' dropped steps on the horizon's last day, with
        each slot's first candidate: the model then places them too (the day and team
        are only its hint; `hinted_anywhere`)."""
        tasks = self.instance.tasks
        dropped = [i for i in self.dropped if tasks[i].case_id in case_ids]
        return hinted_anywhere(self.instance, self.assignment, dropped)

    def offer(
        self,
        candidate: Assignment | None,
        case_ids: set[str],
        version: int,
        snapshot: Snapshot | None = None,
    ) -> set[int]:
        """Keep `candidate` (the cases re-placed on the plan of `version`, which was
        `snapshot` when given) when it is better and every day it adds a step to still
        packs; returns the steps on those days left without a time (none when it was kept
        or was no better)."""
        return self._offer(candidate, case_ids, version, snapshot)[1]

    def _offer(
        self,
        candidate: Assignment | None,
        case_ids: set[str],
        version: int,
        snapshot: Snapshot | None,
    ) -> tuple[bool, set[int]]:
        """`offer`, and whether the candidate was kept. With a `snapshot` the days are
        packed outside the lock; the result is carried onto the current plan when no
        change kept since touched its days or cases, else packed again under the lock."""
        if candidate is None:
            return False, set()
        if snapshot is not None:
            value = penalised(self.instance, candidate)
            if value >= snapshot.value:
                return False, set()
            days, packed, missing = self._pack(candidate, snapshot.assignment, snapshot.starts)
            if missing:
                return False, missing
            base = snapshot.assignment
            cases = {*case_ids, *_changed_cases(self.instance, base, candidate)}
            with self.lock:
                if not self._touched_since(version, days, cases):
                    return self._carry(candidate, base, days, packed, cases, value), set()
        with self.lock:
            return self._offer_locked(candidate, case_ids, version)

    def _pack(
        self, candidate: Assignment, assignment: Assignment, starts: dict[int, int]
    ) -> tuple[set[int], dict[int, int], set[int]]:
        """The days `candidate` adds a step to (against `assignment`), their clock times
        (`pack_days`, keeping the `starts` that still fit) and the steps left without."""
        days = {placed[0] for i, placed in candidate.items() if assignment.get(i) != placed}
        kept = {i: s for i, s in starts.items() if candidate.get(i) == assignment.get(i)}
        on_days = {i: s for i, s in kept.items() if candidate[i][0] in days}
        packed, missing = pack_days(self.instance, candidate, days, on_days)
        return days, packed, missing

    def _touched_since(self, version: int, days: set[int], cases: set[str]) -> bool:
        return any(d & days or c & cases for d, c in self.history[version:])

    def _carry(
        self,
        candidate: Assignment,
        base: Assignment,
        days: set[int],
        packed: dict[int, int],
        cases: set[str],
        value: int,
    ) -> bool:
        """Put the changes `candidate` (objective `value`) makes to `base` onto the current
        plan, with the clock times `packed` of the days it adds steps to (no change kept
        since touched those days or cases, so they are the same there); True when that is
        better. When nothing was kept since, the current plan is `base` and the result is
        `candidate` itself."""
        if self.assignment is not base:
            changed = [i for i, placed in candidate.items() if base.get(i) != placed]
            candidate = {**self.assignment, **{i: candidate[i] for i in changed}}
            value = penalised(self.instance, candidate)
        if value >= self.value:
            return False
        self._commit(candidate, value, {**self._starts_kept(candidate, days), **packed}, cases)
        return True

    def _offer_locked(
        self, candidate: Assignment, case_ids: set[str], version: int
    ) -> tuple[bool, set[int]]:
        """`_offer` under the lock: a result built on an older plan is first carried
        over onto the current one (`merged`), then its days are packed."""
        if version != self.version:
            candidate = merged(self.instance, self.assignment, candidate, case_ids)
            if candidate is None:
                return False, set()
        value = penalised(self.instance, candidate)
        if value >= self.value:
            return False, set()
        days, packed, missing = self._pack(candidate, self.assignment, self.starts)
        if missing:
            return False, missing
        starts = self._starts_kept(candidate, days)
        cases = {*case_ids, *_changed_cases(self.instance, self.assignment, candidate)}
        self._commit(candidate, value, {**starts, **packed}, cases)
        return True, set()

    def _starts_kept(self, new: Assignment, days: set[int]) -> dict[int, int]:
        """The starts of the steps `new` leaves where they are, on days other than `days`
        (those are packed again)."""
        return {
            i: s
            for i, s in self.starts.items()
            if new.get(i) == self.assignment[i] and new[i][0] not in days
        }

    def _commit(
        self, assignment: Assignment, value: int, starts: dict[int, int], cases: set[str]
    ) -> None:
        """Keep a better plan (under the lock) and note the days and cases it touched."""
        old = self.assignment
        touched = {p[0] for i, p in assignment.items() if old.get(i) != p}
        touched |= {p[0] for i, p in old.items() if assignment.get(i) != p}
        self.assignment, self.starts, self.value = assignment, starts, value
        self.dropped = {i: why for i, why in self.dropped.items() if i not in assignment}
        self.version += 1
        self.history.append((touched, cases))
        self.watch.report(objective=float(value))


def _relieve_each(
    instance: Instance, assignment: Assignment, failed: list[int], deadline: float
) -> Assignment | None:
    """Re-solve the cases of the failed steps one by one (a case with no other day for its
    step within its window stays as it is); None when none of them changed."""
    result = None
    for index in failed:
        current = result or assignment
        if instance.tasks[index].case_id in _changed_cases(instance, assignment, current):
            continue
        cases = {instance.tasks[index].case_id, *_neighbours(instance, current, index)}
        candidate = relieve(instance, current, cases, deadline)
        if candidate is not None:
            result = candidate
    return result


def _changed_cases(instance: Instance, before: Assignment, after: Assignment) -> set[str]:
    return {instance.tasks[i].case_id for i, placed in after.items() if before.get(i) != placed}


def _neighbours(instance: Instance, assignment: Assignment, index: int) -> list[str]:
    """Up to `NEIGHBOURS` other cases with the most steps of the failed step's clinicians
    within `NEAR_DAYS` of its day (re-solving them too can make room)."""
    day, clinician_ids = assignment[index]
    own = instance.tasks[index].case_id
    counts: dict[str, int] = {}
    for other, (other_day, other_ids) in assignment.items():
        task = instance.tasks[other]
        if task.case_id == own or task.fixed or abs(other_day - day) > NEAR_DAYS:
            continue
        if set(other_ids) & set(clinician_ids):
            counts[task.case_id] = counts.get(task.case_id, 0) + 1
    return sorted(counts, key=lambda c: (-counts[c], c))[:NEIGHBOURS]


def _seconds_left(instance: Instance, deadline: float, clock_s: float) -> float:
    if instance.settings.deterministic:
        return RELIEF_SOLVE_S + clock_s + 1.0
    return deadline - time.perf_counter()


def _first_failures(instance: Instance, assignment: Assignment, times: Times) -> list[int]:
    """Tasks stage 2 moved or dropped whose prerequisites it left where they were (the
    steps after a failed step move with it and need no relief of their own)."""
    changed = {i for i, placed in assignment.items() if times.assignment.get(i) != placed}
    return sorted(i for i in changed if not any(p in changed for p, _ in instance.tasks[i].preds))


def _score(instance: Instance, times: Times) -> tuple[int, int]:
    """Fewer dropped steps first, then the lower objective."""
    return len(times.dropped), evaluate(instance, times.assignment)
