"""Run a CP-SAT model under one set of solver settings and report status, bound and gap.

Shared by every scheduler in essence (the plain RCPSP core and the clinic scheduler).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from essence.domain.errors import InvalidInput

_STATUS_NAMES = {
    cp_model.OPTIMAL: "OPTIMAL",
    cp_model.FEASIBLE: "FEASIBLE",
    cp_model.INFEASIBLE: "INFEASIBLE",
    cp_model.MODEL_INVALID: "MODEL_INVALID",
    cp_model.UNKNOWN: "UNKNOWN",
}


#: Wall seconds allowed per deterministic second in deterministic mode: only a guard
#: against a hung solve, so generous that no loaded machine reaches it (a search cut short
#: by the wall clock would give a different plan on a busy machine).
DETERMINISTIC_WALL_GUARD = 1000.0


def limit_time(solver: cp_model.CpSolver, budget_s: float, *, deterministic: bool) -> None:
    """Set a solve's time limit: `budget_s` wall seconds, or with `deterministic` that many
    of CP-SAT's deterministic time units (the same search on any machine)."""
    solver.parameters.max_time_in_seconds = float(budget_s)
    if deterministic:
        solver.parameters.max_deterministic_time = float(budget_s)
        solver.parameters.max_time_in_seconds = DETERMINISTIC_WALL_GUARD * float(budget_s)


@dataclass(frozen=True)
class SolverSettings:
    """Every CP-SAT parameter essence sets, in one place.

    Attributes:
        time_budget_s: Wall-clock limit of one solve, in seconds (must be positive).
        workers: Number of CP-SAT search workers (1 gives reproducible runs).
        random_seed: CP-SAT random seed; with `workers=1` a fixed seed gives repeatable results.
        log: Print the CP-SAT search log to stdout (for debugging only).
        subsolvers: Names of the CP-SAT full-problem subsolvers to run (e.g. "no_lp");
            empty keeps CP-SAT's default portfolio. LNS workers are unaffected.
        deterministic: Count the budget in CP-SAT's deterministic time units instead of
            wall seconds, so the same input gives the same plan on any machine, however
            loaded (the wall clock only guards against a hung solve, see `limit_time`).
    """

    time_budget_s: float = 1.0
    workers: int = 2
    random_seed: int = 0
    log: bool = False
    subsolvers: tuple[str, ...] = ()
    deterministic: bool = False

    def __post_init__(self) -> None:
        if not (self.time_budget_s > 0 and math.isfinite(self.time_budget_s)):
            raise InvalidInput("budget-s", self.time_budget_s, "must be positive")
        if self.workers < 1:
            raise InvalidInput("workers", self.workers, "must be at least 1")

    def apply(self, solver: cp_model.CpSolver) -> None:
        """Copy these settings onto a CP-SAT solver's parameters."""
        limit_time(solver, self.time_budget_s, deterministic=self.deterministic)
        solver.parameters.num_workers = int(self.workers)
        solver.parameters.random_seed = int(self.random_seed)
        solver.parameters.log_search_progress = bool(self.log)
        for name in self.subsolvers:
            solver.parameters.subsolvers.append(name)


@dataclass(frozen=True)
class SolveReport:
    """What one CP-SAT solve achieved; the same fields for every scheduler.

    Attributes:
        status: "OPTIMAL", "FEASIBLE", "INFEASIBLE", "MODEL_INVALID" or "UNKNOWN".
        objective: Objective value of the best solution, None when none was found.
        best_bound: Best proven bound on the objective, None when none was found.
        gap: Relative optimality gap |objective - bound| / max(1, |objective|), 0.0 when
            optimal, None when no solution was found.
        wall_seconds: Wall-clock time of the solve, in seconds.
        solver: The CP-SAT solver, to read variable values with `value`.
    """

    status: str
    objective: float | None
    best_bound: float | None
    gap: float | None
    wall_seconds: float
    solver: cp_model.CpSolver = field(repr=False, compare=False)

    @property
    def has_solution(self) -> bool:
        """True when a feasible solution was found (status OPTIMAL or FEASIBLE)."""
        return self.status in ("OPTIMAL", "FEASIBLE")

    def value(self, expression: cp_model.LinearExprT) -> int:
        """The value of a variable or linear expression in the best solution found."""
        return int(self.solver.value(expression))


def relative_gap(objective: float, bound: float) -> float:
    """Relative gap between an objective and its bound: |obj - bound| / max(1, |obj|)."""
    return abs(objective - bound) / max(1.0, abs(objective))


def solve(model: cp_model.CpModel, settings: SolverSettings) -> SolveReport:
    """Solve a CP-SAT model and report status, objective, best bound, gap and wall time.

    Args:
        model: A complete CP-SAT model (with or without an objective).
        settings: Time budget (seconds), workers, seed and logging of the solve.

    Returns:
        A SolveReport; read variable values from it with `report.value(var)`.
    """
    solver = cp_model.CpSolver()
    settings.apply(solver)
    started = time.perf_counter()
    code = solver.solve(model)
    wall_seconds = time.perf_counter() - started
    status = _STATUS_NAMES.get(code, "UNKNOWN")
    if status not in ("OPTIMAL", "FEASIBLE"):
        return SolveReport(status, None, None, None, wall_seconds, solver)
    has_objective = model.has_objective()
    objective = float(solver.objective_value) if has_objective else None
    bound = float(solver.best_objective_bound) if has_objective else None
    if objective is None or bound is None:
        gap = 0.0
    else:
        gap = 0.0 if status == "OPTIMAL" else relative_gap(objective, bound)
    return SolveReport(status, objective, bound, gap, wall_seconds, solver)
