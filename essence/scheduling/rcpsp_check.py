"""The one feasibility checker of RCPSP schedules, used by the benchmark and the tests.

Independent of how a schedule was found: every job has a start, every precedence holds,
and no renewable resource is over its capacity at any moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

from essence.scheduling.rcpsp import RcpspInstance


def schedule_problems(instance: RcpspInstance, starts: Mapping[int, int]) -> list[str]:
    """Every rule the schedule breaks, one line each (empty: the schedule is feasible).

    Args:
        instance: The RCPSP instance.
        starts: Start time of each job, keyed by job identifier (time units, >= 0).
    """
    missing = [job for job in instance.jobs if job not in starts]
    if missing:
        return [f"job {job} has no start" for job in missing]
    problems = [f"job {job} starts before 0" for job in instance.jobs if starts[job] < 0]
    duration = dict(zip(instance.jobs, instance.durations, strict=True))
    for job, successors in zip(instance.jobs, instance.successors, strict=True):
        problems += [
            f"job {after} starts before job {job} ends"
            for after in successors
            if starts[after] < starts[job] + duration[job]
        ]
    return problems + _over_capacity(instance, starts, duration)


def _over_capacity(
    instance: RcpspInstance, starts: Mapping[int, int], duration: dict[int, int]
) -> list[str]:
    """Sweep the start and end events; usage is constant between consecutive events."""
    changes: dict[int, list[int]] = {}
    for job, demand in zip(instance.jobs, instance.demands, strict=True):
        if duration[job] == 0:
            continue
        begin, end = starts[job], starts[job] + duration[job]
        for moment, sign in ((begin, 1), (end, -1)):
            row = changes.setdefault(moment, [0] * len(instance.capacities))
            for r, amount in enumerate(demand):
                row[r] += sign * amount
    problems = []
    usage = [0] * len(instance.capacities)
    for moment, _next in pairwise([*sorted(changes), None]):
        usage = [u + c for u, c in zip(usage, changes[moment], strict=True)]
        for r, (used, capacity) in enumerate(zip(usage, instance.capacities, strict=True)):
            if used > capacity:
                problems.append(f"resource {r + 1} at t={moment}: {used} > {capacity}")
    return problems


def is_feasible(instance: RcpspInstance, starts: Mapping[int, int]) -> bool:
    """True when `schedule_problems` finds nothing."""
    return not schedule_problems(instance, starts)
