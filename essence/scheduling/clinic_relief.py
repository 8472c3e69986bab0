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

from essence.scheduling.clinic_cpsat import (
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


def polish(instance: Instance, times: Times, deadline: float, threads: int = 1) -> Times:
    """A plan with clock times made better case by case while time lasts: each case's
    steps placed again anywhere in the horizon with every other case fixed
    (`clinic_cpsat.replace_cases`), kept when the objective falls and every day the change
    adds a step to still gives each of its steps a clock time (`clinic_times.pack_days`).

    The search moves steps only near their days, so a case whose trips or visits could be
    bundled weeks apart, or that a repair pushed late, stays where it is; this finds those.
    A step the clock-time stage dropped is placed again with its case (its penalty goes).
    Up to `POLISH_PASSES` passes over the cases (fewer when one changes nothing). With
    `threads` >= 2 that many cases are re-placed at once (CP-SAT releases the GIL while it
    solves); a result built on a plan that changed meanwhile is carried over onto the
    current one when every clinician-day still keeps its rules (`merged`). The plan never
    gets worse and needs no repair.
    """
    state = _Polish(instance, times)
    # Every change is checked with clock times here, so the days the search was kept off
    # (`Instance.avoid`) are open again.
    anywhere = dataclasses.replace(instance, avoid={})
    tasks = instance.tasks
    steps = [*times.assignment, *times.dropped]
    case_ids = sorted({tasks[i].case_id for i in steps if not tasks[i].fixed})
    for _ in range(POLISH_PASSES):
        before = state.value
        state.run_pass(anywhere, case_ids, deadline, threads)
        if state.value == before or time.perf_counter() >= deadline - 0.05:
            break
    return Times(state.assignment, state.starts, state.dropped)


#: Passes `polish` makes over the cases at most.
POLISH_PASSES = 3
#: Times `polish` re-places a case again, kept off the days that did not pack.
POLISH_RETRIES = 2


class _Polish:
    """The plan `polish` improves: assignment, clock times, dropped steps, objective and a
    version that counts the changes kept (rounds in other threads compare it)."""

    def __init__(self, instance: Instance, times: Times) -> None:
        self.instance = instance
        self.assignment, self.starts = dict(times.assignment), dict(times.starts)
        self.dropped = dict(times.dropped)
        self.value = penalised(instance, self.assignment)
        self.version = 0
        self.lock = threading.Lock()

    def run_pass(
        self, instance: Instance, case_ids: list[str], deadline: float, threads: int
    ) -> None:
        """Re-place each case once (`_Polish.replace` on `instance`), `threads` at a time,
        offering each result (`offer`), until the deadline."""
        pending = iter(case_ids)

        def work() -> None:
            while time.perf_counter() < deadline - 0.05:
                with self.lock:
                    case_id = next(pending, None)
                    if case_id is None:
                        return
                self.replace(instance, case_id, deadline)

        run_in_threads([work] * max(1, threads))

    def replace(self, instance: Instance, case_id: str, deadline: float) -> None:
        """Re-place one case (`replace_cases`) and offer the result. When a day it adds a
        step to does not pack (the day-level model cannot see clock times, and its best
        for the case is often the very day that failed), try again, up to
        `POLISH_RETRIES` times, with each step left without a time kept off its day and
        its case re-placed too."""
        avoid: dict[int, set[int]] = {}
        chosen = {case_id}
        for _ in range(1 + POLISH_RETRIES):
            with self.lock:
                base = self.with_dropped(chosen)
                version = self.version
            kept_off = dataclasses.replace(instance, avoid=avoid) if avoid else instance
            candidate = replace_cases(kept_off, base, chosen, deadline)
            with self.lock:
                missing = self.offer(candidate, chosen, version)
            if not missing or candidate is None:
                return
            for index in missing:
                avoid.setdefault(index, set()).add(candidate[index][0])
            chosen |= {self.instance.tasks[i].case_id for i in missing}

    def with_dropped(self, case_ids: set[str]) -> Assignment:
        """The assignment with the cases' dropped steps on the horizon's last day, with
        each slot's first candidate: the model then places them too (the day and team
        are only its hint; `hinted_anywhere`)."""
        tasks = self.instance.tasks
        dropped = [i for i in self.dropped if tasks[i].case_id in case_ids]
        return hinted_anywhere(self.instance, self.assignment, dropped)

    def offer(self, candidate: Assignment | None, case_ids: set[str], version: int) -> set[int]:
        """Keep `candidate` (the cases re-placed on the plan of `version`) when it is
        better and every day it adds a step to still packs; returns the steps on those
        days left without a time (none when it was kept or was no better)."""
        if candidate is None:
            return set()
        if version != self.version:
            candidate = merged(self.instance, self.assignment, candidate, case_ids)
            if candidate is None:
                return set()
        value = penalised(self.instance, candidate)
        if value >= self.value:
            return set()
        assignment, starts = self.assignment, self.starts
        days = {placed[0] for i, placed in candidate.items() if assignment.get(i) != placed}
        kept = {i: s for i, s in starts.items() if candidate.get(i) == assignment.get(i)}
        on_days = {i: s for i, s in kept.items() if candidate[i][0] in days}
        packed, missing = pack_days(self.instance, candidate, days, on_days)
        if missing:
            return missing
        self.starts = {**{i: s for i, s in kept.items() if i not in on_days}, **packed}
        self.assignment, self.value = candidate, value
        self.dropped = {i: why for i, why in self.dropped.items() if i not in candidate}
        self.version += 1
        return set()


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
