"""`essence bench`: measure the scheduling core on standard benchmark sets (PSPLIB j30).

Progress goes to stderr, the summary table or the JSON document to stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from essence.cli.render import console, error_console, print_json

if TYPE_CHECKING:  # the solver (OR-Tools) loads only when a benchmark runs
    from essence.services.benchmarking import BenchmarkReport, BenchmarkSummary, InstanceRow

app = typer.Typer(
    help="Benchmark the scheduling core on standard instance sets (PSPLIB RCPSP).",
    no_args_is_help=True,
)

_NOT_OPTIMAL_SHOWN = 20


@app.callback()
def bench() -> None:
    """Benchmark the scheduling core on standard instance sets (PSPLIB RCPSP)."""


@app.command("psplib")
def psplib(
    directory: Path = typer.Argument(..., help="Folder of PSPLIB single-mode .sm files."),
    solutions: Path | None = typer.Option(
        None, "--solutions", help="PSPLIB solution list (e.g. j30hrs.sm) with optimal makespans."
    ),
    budget_s: float = typer.Option(1.0, "--budget-s", help="CP-SAT seconds per instance."),
    workers: int = typer.Option(2, "--workers", help="CP-SAT search workers per instance."),
    limit: int | None = typer.Option(None, "--limit", help="Run only the first N instances."),
    greedy_only: bool = typer.Option(False, "--greedy-only", help="Skip CP-SAT; greedy alone."),
    seed: int = typer.Option(0, "--seed", help="Random seed of CP-SAT and the greedy."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document to stdout."),
) -> None:
    """Solve PSPLIB RCPSP instances (minimise makespan) and compare with known optima.

    Reports optimal count, mean deviation from the optimum (%) and time (seconds), for
    CP-SAT warm-started by the greedy and for the greedy alone.
    """
    from essence.services.benchmarking import run_psplib_benchmark

    progress = _progress_bar()
    task = progress.add_task("psplib", total=None)

    def on_progress(done: int, total: int, row: InstanceRow | None) -> None:
        if row is None:
            progress.update(task, total=total)
            progress.start()
            return
        progress.update(task, completed=done, description=row.file)

    try:
        report = run_psplib_benchmark(
            directory,
            solutions,
            budget_s,
            workers,
            on_progress,
            limit=limit,
            greedy_only=greedy_only,
            seed=seed,
        )
    finally:
        progress.stop()
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report)


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=error_console,
        transient=True,
    )


def _print_report(report: BenchmarkReport) -> None:
    """Summary table of CP-SAT and the greedy, then the instances that missed the optimum."""
    workload = (
        "greedy alone"
        if report.greedy_only
        else f"CP-SAT {report.budget_s:g} s budget/instance, {report.workers} worker(s)"
    )
    table = Table(title=f"PSPLIB benchmark ({workload})")
    for column in ("method", "instances", "optimal", "mean dev %", "max dev %", "total s"):
        table.add_column(column, justify="left" if column == "method" else "right")
    table.add_column("mean s/instance", justify="right")
    summaries = [report.summary] if report.greedy_only else [report.summary, report.greedy_summary]
    for summary in summaries:
        table.add_row(*_summary_cells(summary))
    console.print(table)
    missed = [row for row in report.rows if not row.optimal]
    if missed:
        console.print(_missed_table(missed))


def _summary_cells(summary: BenchmarkSummary) -> list[str]:
    return [
        summary.method,
        str(summary.instances),
        f"{summary.optimal}/{summary.instances}"
        + (f" ({summary.infeasible} infeasible)" if summary.infeasible else ""),
        _pct(summary.mean_deviation_pct),
        _pct(summary.max_deviation_pct),
        f"{summary.total_seconds:.1f}",
        f"{summary.mean_seconds:.3f}",
    ]


def _missed_table(rows: list[InstanceRow]) -> Table:
    shown = rows[:_NOT_OPTIMAL_SHOWN]
    more = len(rows) - len(shown)
    title = "Not optimal" + (f" (first {len(shown)} of {len(rows)})" if more else "")
    table = Table(title=title)
    for column in ("file", "makespan", "reference", "bound", "status", "seconds"):
        table.add_column(column, justify="left" if column in ("file", "status") else "right")
    for row in shown:
        table.add_row(
            row.file,
            str(row.makespan),
            "-" if row.reference is None else str(row.reference),
            str(row.best_bound),
            row.status,
            f"{row.seconds:.2f}",
        )
    return table


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
