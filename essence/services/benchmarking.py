"""Benchmark the scheduling core on PSPLIB instances (e.g. j30) against known optima.

Parses every file first (a bad file fails fast), then runs the greedy and CP-SAT per instance.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

import numpy as np

from essence.domain.errors import InvalidInput
from essence.domain.messages import N_
from essence.scheduling.psplib import read_sm, read_solutions
from essence.scheduling.rcpsp import (
    DEFAULT_RANDOM_PASSES,
    RCPSP_SUBSOLVERS,
    RcpspInstance,
    RcpspResult,
    greedy_only_result,
    greedy_schedule,
    solve_rcpsp,
)
from essence.scheduling.rcpsp_check import schedule_problems
from essence.scheduling.solver import SolverSettings


@dataclass(frozen=True)
class InstanceRow:
    """The outcome on one instance, for both CP-SAT and the greedy alone.

    Attributes:
        file: Instance file name, e.g. "j301_1.sm".
        makespan: Makespan of the returned schedule (CP-SAT, or greedy with greedy_only).
        reference: Known optimal makespan from the solutions file, None without one.
        status: Solver status ("OPTIMAL", "FEASIBLE", ...).
        seconds: Wall time for this instance (greedy plus CP-SAT), in seconds.
        best_bound: Best proven lower bound on the makespan.
        gap: Relative optimality gap, 0.0 when proven optimal.
        greedy_makespan: Makespan of the greedy alone.
        greedy_seconds: Wall time of the greedy alone, in seconds.
        lower_bound: Critical-path lower bound (what the greedy alone can prove against).
        starts: Start time of every job of the returned schedule, keyed by job number.
        problems: What the one schedule checker (`rcpsp_check.schedule_problems`) finds
            in the returned schedule; a row with problems is a failure, never optimal.
    """

    file: str
    makespan: int
    reference: int | None
    status: str
    seconds: float
    best_bound: int
    gap: float
    greedy_makespan: int
    greedy_seconds: float
    lower_bound: int
    starts: dict[int, int] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def feasible(self) -> bool:
        """True when the checker finds nothing wrong with the returned schedule."""
        return not self.problems

    @property
    def deviation_pct(self) -> float | None:
        """Deviation of the makespan from the reference, in percent (None without one)."""
        return _deviation_pct(self.makespan, self.reference)

    @property
    def greedy_deviation_pct(self) -> float | None:
        """Deviation of the greedy makespan from the reference, in percent."""
        return _deviation_pct(self.greedy_makespan, self.reference)

    @property
    def optimal(self) -> bool:
        """Makespan equals the reference; without a reference, status OPTIMAL; never for
        an infeasible schedule."""
        if not self.feasible:
            return False
        if self.reference is not None:
            return self.makespan == self.reference
        return self.status == "OPTIMAL"

    @property
    def greedy_optimal(self) -> bool:
        """Greedy equals the reference; without one, it meets the critical-path bound."""
        if self.reference is not None:
            return self.greedy_makespan == self.reference
        return self.greedy_makespan <= self.lower_bound

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready row: file, makespan, reference, status, seconds, starts and more."""
        return {
            "file": self.file,
            "makespan": self.makespan,
            "reference": self.reference,
            "deviation_pct": _rounded(self.deviation_pct),
            "status": self.status,
            "best_bound": self.best_bound,
            "gap": round(self.gap, 6),
            "seconds": round(self.seconds, 4),
            "greedy_makespan": self.greedy_makespan,
            "greedy_seconds": round(self.greedy_seconds, 4),
            "starts": {str(job): start for job, start in self.starts.items()},
            "feasible": self.feasible,
            "problems": list(self.problems[:5]),
        }


@dataclass(frozen=True)
class BenchmarkSummary:
    """Totals over all instances for one method.

    Attributes:
        method: "CP-SAT" or "greedy".
        instances: Number of instances run.
        infeasible: Rows whose returned schedule the checker rejects (failures).
        optimal: Instances solved to the reference optimum (or proven optimal without one).
        with_reference: Instances that had a reference value.
        mean_deviation_pct: Mean deviation from the reference in percent (None without any).
        max_deviation_pct: Largest deviation from the reference in percent.
        total_seconds: Wall time summed over instances, in seconds.
        mean_seconds: Mean wall time per instance, in seconds.
    """

    method: str
    instances: int
    infeasible: int
    optimal: int
    with_reference: int
    mean_deviation_pct: float | None
    max_deviation_pct: float | None
    total_seconds: float
    mean_seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "method": self.method,
            "instances": self.instances,
            "infeasible": self.infeasible,
            "optimal": self.optimal,
            "with_reference": self.with_reference,
            "mean_deviation_pct": _rounded(self.mean_deviation_pct),
            "max_deviation_pct": _rounded(self.max_deviation_pct),
            "total_seconds": round(self.total_seconds, 3),
            "mean_seconds": round(self.mean_seconds, 4),
        }


@dataclass(frozen=True)
class BenchmarkReport:
    """Per-instance rows plus the CP-SAT and greedy-alone summaries of one benchmark run.

    Attributes:
        budget_s: CP-SAT time budget per instance, in seconds.
        workers: CP-SAT workers.
        greedy_only: True when CP-SAT was not run (summary then equals greedy_summary).
        rows: One row per instance, in natural file order.
        summary: Totals of the returned schedules (CP-SAT unless greedy_only).
        greedy_summary: Totals of the greedy alone.
    """

    budget_s: float
    workers: int
    greedy_only: bool
    rows: list[InstanceRow]
    summary: BenchmarkSummary
    greedy_summary: BenchmarkSummary

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of `essence bench psplib --json`."""
        summary = self.summary.to_dict() | {"budget_s": self.budget_s, "workers": self.workers}
        return {
            "summary": summary,
            "greedy_summary": self.greedy_summary.to_dict(),
            "instances": [row.to_dict() for row in self.rows],
        }


ProgressCallback = Callable[[int, int, InstanceRow | None], None]
"""Called with (0, total, None) once every file is parsed, then after each instance with
(instances done, instances in total, its row)."""


def run_psplib_benchmark(
    directory: str | Path,
    solutions_file: str | Path | None = None,
    budget_s: float = 1.0,
    workers: int = 2,
    progress_callback: ProgressCallback | None = None,
    *,
    limit: int | None = None,
    greedy_only: bool = False,
    seed: int = 0,
    random_passes: int = DEFAULT_RANDOM_PASSES,
) -> BenchmarkReport:
    """Run the greedy and CP-SAT on every `.sm` file of a directory and compare to optima.

    All files are parsed (and the arguments validated) before any solving, so bad input fails
    in milliseconds with nothing computed.

    Args:
        directory: Folder of PSPLIB `.sm` files (e.g. the j30 set).
        solutions_file: Optional PSPLIB solution list (e.g. `j30hrs.sm`) for reference values.
        budget_s: CP-SAT time budget per instance, in seconds; must be positive.
        workers: CP-SAT workers per solve (use 1 for reproducible results).
        progress_callback: Called with (0, total, None) once all input is parsed, then
            after each instance with (done, total, row).
        limit: Run only the first `limit` instances in natural file order.
        greedy_only: Skip CP-SAT and report the greedy alone.
        seed: Random seed of CP-SAT and of the randomised greedy passes.
        random_passes: Randomised greedy passes per instance.

    Raises:
        InvalidInput: Non-positive budget, workers or limit, a missing directory, no `.sm`
            files, or a malformed instance or solutions file.
    """
    settings = SolverSettings(
        time_budget_s=budget_s, workers=workers, random_seed=seed, subsolvers=RCPSP_SUBSOLVERS
    )
    if limit is not None and limit < 1:
        raise InvalidInput("limit", limit, N_("must be at least 1"))
    instances = load_instances(directory, limit)
    references = read_solutions(solutions_file) if solutions_file is not None else {}
    rows: list[InstanceRow] = []
    if progress_callback is not None:
        progress_callback(0, len(instances), None)
    for instance in instances:
        reference = references.get(instance.name)
        rows.append(_run_one(instance, reference, settings, greedy_only, seed, random_passes))
        if progress_callback is not None:
            progress_callback(len(rows), len(instances), rows[-1])
    return BenchmarkReport(
        budget_s=budget_s,
        workers=workers,
        greedy_only=greedy_only,
        rows=rows,
        summary=summarise(rows, "greedy" if greedy_only else "CP-SAT"),
        greedy_summary=summarise(rows, "greedy"),
    )


def load_instances(directory: str | Path, limit: int | None = None) -> list[RcpspInstance]:
    """Parse the `.sm` files of a directory in natural order (j301_2 before j301_10)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise InvalidInput("psplib directory", folder.name or str(folder), N_("not a directory"))
    files = sorted(folder.glob("*.sm"), key=lambda p: _natural_key(p.name))
    if not files:
        raise InvalidInput("psplib directory", folder.name, N_("no .sm files found"))
    return [read_sm(file) for file in files[:limit]]


def _run_one(
    instance: RcpspInstance,
    reference: int | None,
    settings: SolverSettings,
    greedy_only: bool,
    seed: int,
    random_passes: int,
) -> InstanceRow:
    rng = np.random.default_rng(seed)
    greedy = greedy_schedule(instance, random_passes=random_passes, rng=rng)
    if greedy_only:
        result = greedy_only_result(instance, greedy)
    else:
        result = solve_rcpsp(instance, settings, greedy=greedy)
    return _row(result, reference, greedy.seconds, schedule_problems(instance, result.starts))


def _row(
    result: RcpspResult, reference: int | None, greedy_seconds: float, problems: list[str]
) -> InstanceRow:
    return InstanceRow(
        file=result.name,
        makespan=result.makespan,
        reference=reference,
        status=result.status,
        seconds=result.wall_seconds,
        best_bound=result.best_bound,
        gap=result.gap,
        greedy_makespan=result.greedy_makespan,
        greedy_seconds=greedy_seconds,
        lower_bound=result.lower_bound,
        starts=dict(result.starts),
        problems=tuple(problems),
    )


def summarise(rows: Sequence[InstanceRow], method: str) -> BenchmarkSummary:
    """Totals of either the returned schedules ("CP-SAT") or the greedy alone ("greedy")."""
    greedy = method == "greedy"
    deviations = [
        d
        for d in (
            r.greedy_deviation_pct if greedy else r.deviation_pct
            for r in rows
            if greedy or r.feasible
        )
        if d is not None
    ]
    seconds = [r.greedy_seconds if greedy else r.seconds for r in rows]
    optimal = sum(r.greedy_optimal if greedy else r.optimal for r in rows)
    return BenchmarkSummary(
        method=method,
        instances=len(rows),
        infeasible=0 if greedy else sum(1 for r in rows if not r.feasible),
        optimal=optimal,
        with_reference=len(deviations),
        mean_deviation_pct=fmean(deviations) if deviations else None,
        max_deviation_pct=max(deviations) if deviations else None,
        total_seconds=sum(seconds),
        mean_seconds=fmean(seconds) if seconds else 0.0,
    )


def _deviation_pct(makespan: int, reference: int | None) -> float | None:
    if reference is None or reference <= 0:
        return None
    return 100.0 * (makespan - reference) / reference


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _natural_key(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
