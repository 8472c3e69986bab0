"""The plain RCPSP core: jobs with precedences and renewable resources, minimise makespan.

A validated data model, a serial schedule-generation greedy and a CP-SAT model warm-started by it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from ortools.sat.python import cp_model

from essence.domain.errors import InvalidInput
from essence.scheduling.solver import SolverSettings, solve

DEFAULT_RANDOM_PASSES = 10
"""Seeded randomised greedy passes per instance, on top of the four priority rules."""

RCPSP_SUBSOLVERS = ("no_lp",)
"""CP-SAT full-problem subsolver for RCPSP: the LP relaxation of cumulative constraints is weak,
and on hard j30 instances search without it found optima more often within 1 s (2 workers)."""

# ---------------------------------------------------------------------------------------------
# Data model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RcpspInstance:
    """A single-mode RCPSP instance; durations are in integer time units.

    Job `jobs[i]` lasts `durations[i]`, must finish before every job in `successors[i]` starts
    and uses `demands[i][r]` units of renewable resource r (capacity `capacities[r]`) while
    it runs. Construction validates everything and raises `InvalidInput` on bad data.

    Attributes:
        name: A label for reports (e.g. the PSPLIB file name).
        jobs: Job identifiers, unique (PSPLIB numbers them 1..n).
        durations: Duration of each job, aligned with `jobs`, non-negative.
        successors: For each job, the identifiers of the jobs that must wait for it.
        demands: For each job, its demand on every resource (one value per capacity).
        capacities: Capacity of each renewable resource per time unit.
    """

    name: str
    jobs: tuple[int, ...]
    durations: tuple[int, ...]
    successors: tuple[tuple[int, ...], ...]
    demands: tuple[tuple[int, ...], ...]
    capacities: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "jobs", tuple(int(j) for j in self.jobs))
        object.__setattr__(self, "durations", tuple(int(d) for d in self.durations))
        object.__setattr__(self, "successors", tuple(tuple(s) for s in self.successors))
        object.__setattr__(self, "demands", tuple(tuple(int(q) for q in d) for d in self.demands))
        object.__setattr__(self, "capacities", tuple(int(c) for c in self.capacities))
        self._check_shapes()
        self._check_values()
        self._check_successors()
        _topological_order(len(self.jobs), self.successor_indices, self.jobs)

    def _check_shapes(self) -> None:
        n = len(self.jobs)
        for label, values in (
            ("durations", self.durations),
            ("successors", self.successors),
            ("demands", self.demands),
        ):
            if len(values) != n:
                raise InvalidInput(label, len(values), f"expected one entry per job ({n})")
        if len(set(self.jobs)) != n:
            raise InvalidInput("jobs", self.name, "job identifiers must be unique")
        for job, demand in zip(self.jobs, self.demands, strict=True):
            if len(demand) != len(self.capacities):
                raise InvalidInput(
                    f"job {job}", len(demand), f"expected {len(self.capacities)} demands"
                )

    def _check_values(self) -> None:
        for r, capacity in enumerate(self.capacities):
            if capacity < 0:
                raise InvalidInput(f"resource {r + 1}", capacity, "capacity must not be negative")
        for job, duration, demand in zip(self.jobs, self.durations, self.demands, strict=True):
            if duration < 0:
                raise InvalidInput(f"job {job}", duration, "duration must not be negative")
            for r, (amount, capacity) in enumerate(zip(demand, self.capacities, strict=True)):
                if amount < 0:
                    raise InvalidInput(f"job {job}", amount, "demand must not be negative")
                if amount > capacity:
                    raise InvalidInput(
                        f"job {job}",
                        amount,
                        f"demand on resource {r + 1} exceeds its capacity {capacity}",
                    )

    def _check_successors(self) -> None:
        known = set(self.jobs)
        for job, successors in zip(self.jobs, self.successors, strict=True):
            for successor in successors:
                if successor not in known:
                    raise InvalidInput(f"job {job}", successor, "unknown successor")
                if successor == job:
                    raise InvalidInput(f"job {job}", successor, "a job cannot succeed itself")

    @property
    def size(self) -> int:
        """Number of jobs (including dummy source and sink jobs, if any)."""
        return len(self.jobs)

    @cached_property
    def successor_indices(self) -> tuple[tuple[int, ...], ...]:
        """Successors of each job as positions in `jobs` (not identifiers)."""
        position = {job: i for i, job in enumerate(self.jobs)}
        return tuple(tuple(position[s] for s in succ) for succ in self.successors)

    @cached_property
    def predecessor_indices(self) -> tuple[tuple[int, ...], ...]:
        """Predecessors of each job as positions in `jobs`."""
        predecessors: list[list[int]] = [[] for _ in self.jobs]
        for i, successors in enumerate(self.successor_indices):
            for j in successors:
                predecessors[j].append(i)
        return tuple(tuple(p) for p in predecessors)

    @cached_property
    def order(self) -> tuple[int, ...]:
        """Job positions in a topological order of the precedence graph."""
        return _topological_order(self.size, self.successor_indices, self.jobs)


def _topological_order(
    n: int, successors: Sequence[Sequence[int]], labels: Sequence[int]
) -> tuple[int, ...]:
    """Kahn's algorithm; raises InvalidInput naming a job on a precedence cycle."""
    indegree = [0] * n
    for succ in successors:
        for j in succ:
            indegree[j] += 1
    ready = [i for i in range(n) if indegree[i] == 0]
    order: list[int] = []
    while ready:
        i = ready.pop()
        order.append(i)
        for j in successors[i]:
            indegree[j] -= 1
            if indegree[j] == 0:
                ready.append(j)
    if len(order) < n:
        stuck = min(labels[i] for i in range(n) if indegree[i] > 0)
        raise InvalidInput("precedences", f"job {stuck}", "precedence relations form a cycle")
    return tuple(order)


# ---------------------------------------------------------------------------------------------
# Critical path (time windows and the lower bound)
# ---------------------------------------------------------------------------------------------


def earliest_starts(instance: RcpspInstance) -> list[int]:
    """Earliest start of every job from precedences alone (resources ignored)."""
    starts = [0] * instance.size
    for i in instance.order:
        finish = starts[i] + instance.durations[i]
        for j in instance.successor_indices[i]:
            starts[j] = max(starts[j], finish)
    return starts


def tails(instance: RcpspInstance) -> list[int]:
    """Length of the longest path from each job's start to the project end (incl. itself)."""
    tail = list(instance.durations)
    for i in reversed(instance.order):
        for j in instance.successor_indices[i]:
            tail[i] = max(tail[i], instance.durations[i] + tail[j])
    return tail


def critical_path_length(instance: RcpspInstance) -> int:
    """Critical-path length: a lower bound on the makespan (resources ignored)."""
    return max(tails(instance), default=0)


# ---------------------------------------------------------------------------------------------
# Greedy: serial schedule-generation scheme with forward-backward improvement
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GreedyResult:
    """A feasible schedule found by the greedy.

    Attributes:
        starts: Start time of every job, aligned with `instance.jobs`.
        makespan: Finish time of the last job, in time units.
        seconds: Wall-clock time the greedy took, in seconds.
    """

    starts: tuple[int, ...]
    makespan: int
    seconds: float


def serial_sgs(
    instance: RcpspInstance, priority: Sequence[float], *, backward: bool = False
) -> list[int]:
    """Serial schedule-generation: schedule eligible jobs one by one, lowest priority first.

    Each chosen job starts at the earliest time its predecessors allow and every resource has
    room for its whole duration, so the schedule is feasible by construction.

    Args:
        instance: The instance to schedule.
        priority: One value per job; among jobs whose predecessors are all scheduled, the one
            with the smallest value (ties: smallest position) goes next.
        backward: Schedule the reversed network (successors first); the returned times are
            then start times in the reversed project, see `_mirror`.

    Returns:
        Start time of every job (in the reversed project when `backward`).
    """
    n = instance.size
    before = instance.successor_indices if backward else instance.predecessor_indices
    after = instance.predecessor_indices if backward else instance.successor_indices
    durations = instance.durations
    horizon = sum(durations) + max(durations, default=0) + 1
    free = [[capacity] * horizon for capacity in instance.capacities]
    needs = [[(r, q) for r, q in enumerate(demand) if q > 0] for demand in instance.demands]
    waiting = [len(b) for b in before]
    earliest = [0] * n
    starts = [0] * n
    eligible = {i for i in range(n) if waiting[i] == 0}
    while eligible:
        job = min(eligible, key=lambda i: (priority[i], i))
        eligible.remove(job)
        start = _first_fit(free, needs[job], earliest[job], durations[job])
        starts[job] = start
        for r, q in needs[job]:
            row = free[r]
            for moment in range(start, start + durations[job]):
                row[moment] -= q
        for k in after[job]:
            earliest[k] = max(earliest[k], start + durations[job])
            waiting[k] -= 1
            if waiting[k] == 0:
                eligible.add(k)
    return starts


def _first_fit(
    free: list[list[int]], needs: list[tuple[int, int]], earliest: int, duration: int
) -> int:
    """Earliest time >= `earliest` with room for `needs` during `duration` consecutive units.

    `free[r][t]` is the unused capacity of resource r at time t; `needs` lists the
    (resource, amount) pairs of the job's non-zero demands.
    """
    start = earliest
    moment = start
    while moment < start + duration:
        if all(free[r][moment] >= q for r, q in needs):
            moment += 1
        else:
            start = moment = moment + 1
    return start


def _mirror(instance: RcpspInstance, backward_starts: Sequence[int]) -> list[int]:
    """Convert start times of the reversed project into forward start times."""
    finishes = [s + d for s, d in zip(backward_starts, instance.durations, strict=True)]
    end = max(finishes, default=0)
    return [end - f for f in finishes]


def makespan_of(instance: RcpspInstance, starts: Sequence[int]) -> int:
    """Finish time of the last job of a schedule, in time units."""
    return max((s + d for s, d in zip(starts, instance.durations, strict=True)), default=0)


def justify(instance: RcpspInstance, starts: Sequence[int]) -> list[int]:
    """Forward-backward improvement (double justification) of a feasible schedule.

    Shifts every job as late as possible (latest finish first), then as early as possible
    (earliest start first); the makespan never grows and often shrinks.
    """
    finishes = [s + d for s, d in zip(starts, instance.durations, strict=True)]
    right = _mirror(instance, serial_sgs(instance, [-f for f in finishes], backward=True))
    return serial_sgs(instance, right)


def _improve(instance: RcpspInstance, starts: list[int], rounds: int = 3) -> list[int]:
    """Repeat `justify` while it shortens the makespan (at most `rounds` times)."""
    best, best_makespan = starts, makespan_of(instance, starts)
    for _ in range(rounds):
        candidate = justify(instance, best)
        candidate_makespan = makespan_of(instance, candidate)
        if candidate_makespan >= best_makespan:
            break
        best, best_makespan = candidate, candidate_makespan
    return best


def priority_rules(instance: RcpspInstance) -> dict[str, list[float]]:
    """Classic static priority rules (smaller value goes first), all deterministic.

    LFT: latest finish time; LST: latest start time; MSLK: minimum slack;
    MTS: most total successors (negated count of transitive successors).
    """
    bound = critical_path_length(instance)
    tail = tails(instance)
    earliest = earliest_starts(instance)
    latest_start = [bound - t for t in tail]
    latest_finish = [ls + d for ls, d in zip(latest_start, instance.durations, strict=True)]
    slack = [ls - es for ls, es in zip(latest_start, earliest, strict=True)]
    return {
        "LFT": [float(v) for v in latest_finish],
        "LST": [float(v) for v in latest_start],
        "MSLK": [float(v) for v in slack],
        "MTS": [-float(v) for v in _successor_counts(instance)],
    }


def _successor_counts(instance: RcpspInstance) -> list[int]:
    """Number of transitive successors of each job."""
    reach: list[set[int]] = [set() for _ in instance.jobs]
    for i in reversed(instance.order):
        for j in instance.successor_indices[i]:
            reach[i].add(j)
            reach[i] |= reach[j]
    return [len(r) for r in reach]


def greedy_schedule(
    instance: RcpspInstance,
    *,
    random_passes: int = 0,
    rng: np.random.Generator | None = None,
) -> GreedyResult:
    """A fast feasible schedule: serial SGS with priority rules plus justification.

    Runs the deterministic rules of `priority_rules`, then `random_passes` passes with the LFT
    rule perturbed by seeded noise; every schedule is improved by `justify` and the shortest
    kept. Deterministic for a given `rng` seed (default seed 0).

    Args:
        instance: The instance to schedule.
        random_passes: Number of extra randomised-priority passes (0 = rules only).
        rng: Random generator for those passes; `numpy.random.default_rng(0)` when None.

    Returns:
        The best schedule found, its makespan and the wall time in seconds.
    """
    started = time.perf_counter()
    rules = priority_rules(instance)
    candidates = list(rules.values())
    if random_passes > 0:
        generator = rng if rng is not None else np.random.default_rng(0)
        scale = max(1.0, float(np.mean(instance.durations))) if instance.size else 1.0
        base = np.asarray(rules["LFT"])
        for _ in range(random_passes):
            candidates.append(list(base + generator.normal(0.0, scale, size=instance.size)))
    best: list[int] = []
    best_makespan = -1
    for priority in candidates:
        starts = _improve(instance, serial_sgs(instance, priority))
        makespan = makespan_of(instance, starts)
        if best_makespan < 0 or makespan < best_makespan:
            best, best_makespan = starts, makespan
    return GreedyResult(tuple(best), max(best_makespan, 0), time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# CP-SAT model
# ---------------------------------------------------------------------------------------------


@dataclass
class _Model:
    """A CP-SAT model of an instance and the handles needed to read the schedule back."""

    model: cp_model.CpModel
    starts: list[cp_model.IntVar]
    intervals: list[cp_model.IntervalVar]
    makespan: cp_model.IntVar


def _add_job_intervals(
    model: cp_model.CpModel, instance: RcpspInstance, horizon: int
) -> tuple[list[cp_model.IntVar], list[cp_model.IntervalVar]]:
    """One fixed-size interval per job, its start kept within its critical-path time window."""
    earliest = earliest_starts(instance)
    tail = tails(instance)
    starts, intervals = [], []
    for i, job in enumerate(instance.jobs):
        start = model.new_int_var(earliest[i], horizon - tail[i], f"start_{job}")
        starts.append(start)
        intervals.append(
            model.new_fixed_size_interval_var(start, instance.durations[i], f"job_{job}")
        )
    return starts, intervals


def _add_precedences(
    model: cp_model.CpModel, instance: RcpspInstance, starts: Sequence[cp_model.IntVar]
) -> None:
    """Each successor starts no earlier than its predecessor finishes."""
    for i, successors in enumerate(instance.successor_indices):
        for j in successors:
            model.add(starts[j] >= starts[i] + instance.durations[i])


def _add_resource_capacities(
    model: cp_model.CpModel,
    instance: RcpspInstance,
    intervals: Sequence[cp_model.IntervalVar],
) -> None:
    """At every moment, the jobs running use at most each resource's capacity."""
    for r, capacity in enumerate(instance.capacities):
        users = [i for i in range(instance.size) if instance.demands[i][r] > 0]
        if not users or sum(instance.demands[i][r] for i in users) <= capacity:
            continue
        model.add_cumulative(
            [intervals[i] for i in users], [instance.demands[i][r] for i in users], capacity
        )


def _add_no_overlap_for_heavy_jobs(
    model: cp_model.CpModel,
    instance: RcpspInstance,
    intervals: Sequence[cp_model.IntervalVar],
) -> None:
    """Jobs needing more than half of a resource can never run together (redundant).

    Implied by the cumulative constraints, but the no-overlap propagators (edge finding,
    detectable precedences) prune more; it helped CP-SAT on the hard j30 instances.
    """
    for r, capacity in enumerate(instance.capacities):
        heavy = [
            i
            for i in range(instance.size)
            if 2 * instance.demands[i][r] > capacity and instance.durations[i] > 0
        ]
        if len(heavy) > 1:
            model.add_no_overlap([intervals[i] for i in heavy])


def _add_makespan_objective(
    model: cp_model.CpModel,
    instance: RcpspInstance,
    starts: Sequence[cp_model.IntVar],
    lower_bound: int,
    horizon: int,
) -> cp_model.IntVar:
    """The makespan is at least every job's finish; minimise it."""
    makespan = model.new_int_var(lower_bound, horizon, "makespan")
    for i, successors in enumerate(instance.successor_indices):
        if not successors:
            model.add(makespan >= starts[i] + instance.durations[i])
    model.minimize(makespan)
    return makespan


def _add_hints(handles: _Model, instance: RcpspInstance, hint_starts: Sequence[int]) -> None:
    """Warm-start CP-SAT with a feasible schedule (solution hints for starts and makespan)."""
    for var, value in zip(handles.starts, hint_starts, strict=True):
        handles.model.add_hint(var, int(value))
    handles.model.add_hint(handles.makespan, makespan_of(instance, hint_starts))


def build_model(
    instance: RcpspInstance, horizon: int, hint_starts: Sequence[int] | None = None
) -> _Model:
    """Build the CP-SAT model: intervals, precedences, cumulative resources, min makespan.

    Args:
        instance: The instance to model.
        horizon: Upper bound on the makespan (e.g. the greedy makespan), in time units.
        hint_starts: Optional feasible start times to warm-start the search.
    """
    model = cp_model.CpModel()
    starts, intervals = _add_job_intervals(model, instance, horizon)
    _add_precedences(model, instance, starts)
    _add_resource_capacities(model, instance, intervals)
    _add_no_overlap_for_heavy_jobs(model, instance, intervals)
    lower_bound = critical_path_length(instance)
    makespan = _add_makespan_objective(model, instance, starts, lower_bound, horizon)
    handles = _Model(model, starts, intervals, makespan)
    if hint_starts is not None:
        _add_hints(handles, instance, hint_starts)
    return handles


@dataclass(frozen=True)
class RcpspResult:
    """The outcome of scheduling one instance.

    Attributes:
        name: Instance name.
        status: "OPTIMAL" (proven), "FEASIBLE" (not proven), or another CP-SAT status.
        makespan: Makespan of the returned schedule, in time units.
        best_bound: Best proven lower bound on the makespan.
        gap: Relative gap (makespan - bound) / makespan; 0.0 when optimal.
        wall_seconds: Total wall time (greedy plus CP-SAT), in seconds.
        solver_seconds: Wall time of the CP-SAT solve alone (0.0 when it was not needed).
        greedy_makespan: Makespan of the greedy warm start.
        lower_bound: Critical-path length, the bound the greedy alone is measured against.
        starts: Start time of every job, keyed by job identifier.
    """

    name: str
    status: str
    makespan: int
    best_bound: int
    gap: float
    wall_seconds: float
    solver_seconds: float
    greedy_makespan: int
    lower_bound: int
    starts: dict[int, int] = field(default_factory=dict)


def solve_rcpsp(
    instance: RcpspInstance,
    settings: SolverSettings,
    *,
    greedy: GreedyResult | None = None,
    random_passes: int = DEFAULT_RANDOM_PASSES,
) -> RcpspResult:
    """Minimise the makespan: greedy warm start, then CP-SAT within the time budget.

    When the greedy already meets the critical-path lower bound it is optimal and CP-SAT is
    skipped. If CP-SAT finds nothing in time, the greedy schedule is returned as FEASIBLE.

    Args:
        instance: The instance to schedule.
        settings: CP-SAT time budget (seconds), workers and seed.
        greedy: A precomputed greedy result (its time counts in `wall_seconds`); computed
            here, seeded with `settings.random_seed`, when None.
        random_passes: Randomised greedy passes when the greedy is computed here.
    """
    started = time.perf_counter() - (greedy.seconds if greedy is not None else 0.0)
    if greedy is None:
        rng = np.random.default_rng(settings.random_seed)
        greedy = greedy_schedule(instance, random_passes=random_passes, rng=rng)
    lower_bound = critical_path_length(instance)
    if greedy.makespan <= lower_bound:
        return _result(instance, "OPTIMAL", greedy.starts, lower_bound, started, 0.0, greedy)
    handles = build_model(instance, greedy.makespan, greedy.starts)
    report = solve(handles.model, settings)
    if not report.has_solution:
        status = "FEASIBLE" if report.status == "UNKNOWN" else report.status
        return _result(
            instance, status, greedy.starts, lower_bound, started, report.wall_seconds, greedy
        )
    starts = [report.value(s) for s in handles.starts]
    bound = max(lower_bound, int(np.ceil((report.best_bound or 0) - 1e-6)))
    return _result(instance, report.status, starts, bound, started, report.wall_seconds, greedy)


def greedy_only_result(instance: RcpspInstance, greedy: GreedyResult) -> RcpspResult:
    """Report a greedy schedule alone: OPTIMAL only if it meets the critical-path bound."""
    started = time.perf_counter() - greedy.seconds
    bound = critical_path_length(instance)
    return _result(instance, "FEASIBLE", greedy.starts, bound, started, 0.0, greedy)


def _result(
    instance: RcpspInstance,
    status: str,
    starts: Sequence[int],
    bound: int,
    started: float,
    solver_seconds: float,
    greedy: GreedyResult,
) -> RcpspResult:
    makespan = makespan_of(instance, starts)
    if bound >= makespan:
        status, bound = "OPTIMAL", makespan
    gap = (makespan - bound) / makespan if makespan > 0 else 0.0
    return RcpspResult(
        name=instance.name,
        status=status,
        makespan=makespan,
        best_bound=bound,
        gap=gap,
        wall_seconds=time.perf_counter() - started,
        solver_seconds=solver_seconds,
        greedy_makespan=greedy.makespan,
        lower_bound=critical_path_length(instance),
        starts={job: int(s) for job, s in zip(instance.jobs, starts, strict=True)},
    )
