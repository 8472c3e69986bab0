"""Fewest family visit days of one case: a small exact relaxation, a part of the lower bound.

Keeps only the rules between one family's own steps (waiting lags, the daily family cap,
one place per visit day) and drops the calendar and the team, so its optimum is a valid
lower bound on the visit days of that case in any plan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache

from ortools.sat.python import cp_model

from essence.scheduling.clinic_greedy import task_order
from essence.scheduling.clinic_instance import Instance, Task

#: Seconds one case's relaxation may take (it is tiny; the limit only guards).
CASE_LIMIT_S = 0.5

#: (family minutes, in-person place or "" for video) per family step.
Steps = tuple[tuple[int, str], ...]
#: (earlier step, later step, True when they must be on different days).
Orders = tuple[tuple[int, int, bool], ...]


def min_visit_days(instance: Instance, placed: list[Task]) -> dict[str, int]:
    """Per case, the fewest visit days its family steps among `placed` need.

    Argument: in any plan, the days of one case's family steps satisfy every waiting lag
    (a chain of prerequisites with lags adding to at least one day puts the later step on
    a later day), at most `family_limit` family minutes a day and one in-person place a
    day. Numbering the distinct visit days 0, 1, ... in calendar order keeps all three, so
    that plan gives a solution of the relaxation below with as many groups as visit days;
    the fewest groups is therefore a lower bound. Cases with fixed family steps are left
    out (their days are counted by the caller).
    """
    by_case: dict[str, list[Task]] = defaultdict(list)
    wanted = {t.index for t in placed}
    for task in task_order(instance):
        if task.index in wanted:
            by_case[task.case_id].append(task)
    result: dict[str, int] = {}
    for case_id, tasks in by_case.items():
        family = [t for t in tasks if t.family_minutes]
        if not family or any(t.fixed for t in family):
            continue
        steps = tuple((t.family_minutes, t.destination or "") for t in family)
        orders = _orders(tasks, family)
        result[case_id] = fewest_groups(steps, orders, instance.family_limit(case_id))
    return result


def _orders(tasks: list[Task], family: list[Task]) -> Orders:
    """Pairs of family steps linked by a chain of prerequisites (any steps in between),
    and whether the chain's lags add up to at least one day."""
    position = {t.index: number for number, t in enumerate(family)}
    orders = []
    for first in family:
        for index, lag in chain_lags(tasks, first.index).items():
            if index in position:
                orders.append((position[first.index], position[index], lag > 0))
    return tuple(sorted(orders))


def chain_lags(ordered: Sequence[Task], index: int) -> dict[int, int]:
    """The steps of `ordered` (prerequisites first) after task `index` through steps of
    `ordered`, each with the most waiting days on a chain of prerequisites between them
    (its day is at least the task's day plus that many)."""
    lag_to = {index: 0}
    for task in ordered:
        for pred, lag in task.preds:
            if pred in lag_to:
                lag_to[task.index] = max(lag_to.get(task.index, 0), lag_to[pred] + lag)
    del lag_to[index]
    return lag_to


@lru_cache(maxsize=4096)
def fewest_groups(steps: Steps, orders: Orders, limit: int) -> int:
    """The fewest ordered groups (visit days) holding every step: a later step of an order
    in the same or a later group (a later one when strict), at most `limit` minutes and one
    in-person place per group. Falls back to the minutes bound when no grouping exists or
    the solver stops early (its proven bound then)."""
    by_minutes = -(-sum(m for m, _ in steps) // max(1, limit))
    count = len(steps)
    if any(minutes > limit for minutes, _ in steps):
        return by_minutes
    model = cp_model.CpModel()
    x = {(s, g): model.new_bool_var(f"x{s}_{g}") for s in range(count) for g in range(count)}
    used = [model.new_bool_var(f"u{g}") for g in range(count)]
    group = [model.new_int_var(0, count - 1, f"g{s}") for s in range(count)]
    for s in range(count):
        model.add_exactly_one(x[(s, g)] for g in range(count))
        model.add(group[s] == sum(g * x[(s, g)] for g in range(count)))
    for g in range(count):
        model.add(sum(steps[s][0] * x[(s, g)] for s in range(count)) <= limit * used[g])
        if g:
            model.add(used[g] <= used[g - 1])
        for s in range(count):
            for t in range(s + 1, count):
                if steps[s][1] and steps[t][1] and steps[s][1] != steps[t][1]:
                    model.add_at_most_one([x[(s, g)], x[(t, g)]])
    for first, later, strict in orders:
        model.add(group[later] >= group[first] + int(strict))
    model.minimize(sum(used))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = CASE_LIMIT_S
    solver.parameters.num_workers = 1
    code = solver.solve(model)
    if code == cp_model.OPTIMAL:
        return max(by_minutes, round(solver.objective_value))
    if code == cp_model.FEASIBLE:
        return max(by_minutes, int(-(-solver.best_objective_bound // 1)))
    return by_minutes
