"""`essence twin`: the real engine and planner through simulated years, beside the simulator.

Parses options, runs the twin on a scratch SQLite database (never the user's) and renders
the side-by-side tables (readable at 80 columns), JSON or PNG charts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from essence.cli.simulate import (
    ChildrenOption,
    JsonFlag,
    PlotOption,
    ScenarioOption,
    SeedOption,
    TeamOption,
    YearsOption,
)

if TYPE_CHECKING:
    from essence.services.twin_study import TwinReport

#: The engine fills up within two months at 300 children a year (lead times ~40-60 days), so
#: the twin scores after 60 days, not the simulator's default 180; both sides use the same.
TWIN_WARMUP_DAYS = 60.0


def twin_command(
    scenario: ScenarioOption = None,
    children_per_year: ChildrenOption = None,
    team: TeamOption = None,
    years: YearsOption = None,
    seed: SeedOption = None,
    warmup_days: Annotated[
        float,
        typer.Option(
            "--warmup-days", min=0, help="Days simulated first and not scored (both sides)."
        ),
    ] = TWIN_WARMUP_DAYS,
    replan_every_days: Annotated[
        int,
        typer.Option(
            "--replan-every-days",
            help="Working days between full re-plans (greedy + CP-SAT); greedy on the others.",
        ),
    ] = 5,  # TwinOptions.replan_every_days (the service is imported lazily)
    budget_s: Annotated[
        float,
        typer.Option("--budget-s", help="CP-SAT budget per re-plan (deterministic seconds)."),
    ] = 1.0,
    horizon_weeks: Annotated[
        int, typer.Option("--horizon-weeks", help="The planner's rolling horizon, weeks.")
    ] = 10,
    simulator_replications: Annotated[
        int,
        typer.Option("--simulator-replications", help="Simulator replications (at least 2)."),
    ] = 10,
    keep_db: Annotated[
        Path | None,
        typer.Option("--keep-db", help="Keep the scratch database as twin.db in this folder."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also print where the time went.")
    ] = False,
    as_json: JsonFlag = False,
    plot: PlotOption = None,
) -> None:
    """Run the real engine and planner through simulated years, beside the simulator."""
    from essence.services.capacity import load_scenario
    from essence.services.twin import TwinOptions

    overrides = {
        "children_per_year": children_per_year,
        "years": years,
        "seed": seed,
        "warmup_days": warmup_days,
    }
    loaded = load_scenario(scenario, team, overrides)
    options = TwinOptions(
        replan_every_days=replan_every_days, budget_s=budget_s, horizon_weeks=horizon_weeks
    )
    report = _run(loaded, options, simulator_replications, keep_db, as_json)
    paths = plot_twin(report, plot) if plot else []
    if as_json:
        from essence.cli.render import print_json

        print_json(report.model_dump(mode="json"))
        return
    render_twin(report, verbose)
    from essence.cli.render import console

    for path in paths:
        console.print(f"chart: {path}")


def _run(loaded, options, replications: int, keep_db: Path | None, quiet: bool) -> TwinReport:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from essence import bootstrap
    from essence.cli.render import error_console
    from essence.domain.calendar import at_local
    from essence.services.demo import SimulatedClock
    from essence.services.twin_study import run_twin_study

    clock = SimulatedClock(at_local(loaded.start_date, 7))
    with (
        bootstrap.scratch_context(clock, str(keep_db) if keep_db else None) as ctx,
        Progress(
            TextColumn("[bold]twin[/] {task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} days"),
            TimeElapsedColumn(),
            console=error_console,
            transient=True,
            disable=quiet,
        ) as progress,
    ):
        task = progress.add_task("", total=None)

        def on_day(done: int, total: int, day: object) -> None:
            progress.update(task, completed=done, total=total, description=str(day))

        def on_phase(name: str) -> None:
            progress.update(task, description=name)

        return run_twin_study(
            ctx,
            clock,
            loaded,
            options,
            simulator_replications=replications,
            on_day=on_day,
            on_phase=on_phase,
        )


def plot_twin(report: TwinReport, folder: Path) -> list[Path]:
    """Lead times, utilisation and municipalities of the twin and the simulator as PNGs."""
    from essence.simulation.plots import write_plots

    data = report.model_dump(mode="json")
    data["policies"] = [data["twin"], data["simulator"]]
    return write_plots(data, folder)


# --- rendering (80 columns) -------------------------------------------------------------------


def _num(value: float | None, digits: int = 1) -> str:
    return "<5" if value is None else f"{value:,.{digits}f}"


def render_twin(report: TwinReport, verbose: bool = False) -> None:
    """The side-by-side tables, the checks and the closing note."""
    from rich.table import Table

    from essence.cli.render import console

    a = report.activity
    console.print(
        f"[bold]Digital twin[/]: {report.children_per_year:g} children/year, "
        f"{report.years:g} years after {report.warmup_days:g} warm-up days, seed {report.seed}, "
        f"set-up {report.setup}, {report.staff_total} staff; {a.days_simulated} days "
        f"({a.first_day} – {a.last_day}), {a.cases_opened} cases opened, "
        f"{a.cohort_children} in the scored cohort."
    )
    table = Table(
        title=f"Twin vs simulator ({report.simulator_policy}, "
        f"{report.simulator_replications} replications)",
        title_justify="left",
    )
    for column, justify in (
        ("measure", "left"),
        ("twin", "right"),
        ("simulator ±95%", "right"),
        ("diff", "right"),
        ("sim rep 0", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in report.differences:
        half = (
            f" ±{row.simulator_high - row.simulator:.1f}"
            if row.simulator_high is not None and row.simulator is not None
            else ""
        )
        sim = "<5" if row.simulator is None else f"{row.simulator:,.1f}{half}"
        diff = "" if row.difference is None else f"{row.difference:+,.1f}"
        table.add_row(
            f"{row.measure} ({row.unit})", _num(row.twin), sim, diff, _num(row.same_referrals)
        )
    console.print(table)
    console.print(_equity_table(report))
    for line in report.explanation:
        console.print(f"• {line}")
    checks = report.checks
    console.print(
        f"Checks: planner findings {checks.planner_findings} over "
        f"{a.plans_cpsat + a.plans_greedy} plans ({a.plans_cpsat} CP-SAT, {a.plans_greedy} "
        f"greedy); lifecycle invariants: {checks.invariant_violations} violations in "
        f"{checks.cases_checked} cases."
    )
    for example in checks.finding_examples + checks.violation_examples:
        console.print(f"  ! {example}", markup=False)
    if verbose:
        console.print(_timing_table(report))
    console.print(
        f"Wall time {report.wall_seconds:.1f} s (twin {report.twin_seconds:.1f} s, simulator "
        f"{report.simulator_seconds:.1f} s); load average {report.load_average_start[0]:.2f} "
        f"at start, {report.load_average_end[0]:.2f} at end (shared cores)."
    )


def _equity_table(report: TwinReport):
    from rich.table import Table

    table = Table(
        title="Equity: median / p90 days by group (<5 = suppressed)", title_justify="left"
    )
    for column in ("group", "twin n", "twin", "simulator"):
        table.add_column(column, justify="left" if column == "group" else "right")
    sim = {(g.dimension, g.name): g for g in report.simulator.groups}
    for group in report.twin.groups:
        if group.dimension == "municipality":
            continue
        other = sim[(group.dimension, group.name)]
        label = f"{group.dimension.replace('municipality_group', 'region')} {group.name}"
        count = "<5" if group.suppressed else f"{(group.children_per_year or 0) * report.years:.0f}"
        table.add_row(label, count, _pair(group), _pair(other))
    return table


def _pair(group) -> str:
    if group.suppressed or group.median_days is None or group.p90_days is None:
        return "<5"
    return f"{_num(group.median_days.mean, 0)} / {_num(group.p90_days.mean, 0)}"


def _timing_table(report: TwinReport):
    from rich.table import Table

    table = Table(title="Where the time went", title_justify="left")
    for column in ("phase", "seconds", "calls", "share"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    total = sum(float(row["seconds"]) for row in report.timings) or 1.0
    for row in report.timings:
        seconds = float(row["seconds"])
        table.add_row(
            str(row["phase"]), f"{seconds:.1f}", str(row["calls"]), f"{100 * seconds / total:.0f}%"
        )
    return table
