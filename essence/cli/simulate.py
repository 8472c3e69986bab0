"""`essence simulate` and `essence capacity`: the capacity simulator for planners.

The commands parse options, call essence.services.capacity and render rich tables or JSON;
numpy, matplotlib and the simulator are imported only when a command runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from essence.cli.common import EssenceGroup

if TYPE_CHECKING:
    from essence.services.capacity import CapacityReport, Estimate, SimulationReport

ScenarioOption = Annotated[
    Path | None,
    typer.Option("--scenario", help="Scenario YAML (default: the packaged default scenario)."),
]
ChildrenOption = Annotated[
    float | None, typer.Option("--children-per-year", help="Referrals per year (Poisson mean).")
]
TeamOption = Annotated[
    str | None,
    typer.Option(
        "--team",
        help="Team YAML with setup and teams, or a packaged set-up: central, satellites, "
        "ambulating, travelling.",
    ),
]
PolicyOption = Annotated[
    list[str] | None,
    typer.Option("--policy", help="Policy to simulate (repeatable; default: all in the scenario)."),
]
YearsOption = Annotated[
    float | None, typer.Option("--years", help="Referral years scored after the warm-up.")
]
ReplicationsOption = Annotated[
    int | None, typer.Option("--replications", help="Independent replications (at least 2).")
]
SeedOption = Annotated[
    int | None, typer.Option("--seed", help="Root seed (same seed, same figures).")
]
WorkersOption = Annotated[
    int, typer.Option("--workers", min=1, help="Processes to run replications in.")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
DaskOption = Annotated[
    str | None,
    typer.Option(
        "--dask-address",
        help="Run the replications as a Prefect flow on this Dask scheduler (tcp://HOST:PORT).",
    ),
]
PlotOption = Annotated[
    Path | None, typer.Option("--plot", help="Write PNG charts into this folder.")
]


def _default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def simulate_command(
    scenario: ScenarioOption = None,
    children_per_year: ChildrenOption = None,
    team: TeamOption = None,
    policy: PolicyOption = None,
    years: YearsOption = None,
    replications: ReplicationsOption = None,
    seed: SeedOption = None,
    workers: WorkersOption = _default_workers(),
    as_json: JsonFlag = False,
    plot: PlotOption = None,
    dask_address: DaskOption = None,
) -> None:
    """Simulate referrals through the pathway: lead times with 95% CIs, per policy."""
    from essence.services.capacity import load_scenario, run_simulation

    overrides = {
        "children_per_year": children_per_year,
        "years": years,
        "replications": replications,
        "seed": seed,
    }
    loaded = load_scenario(scenario, team, overrides, policy or ())
    if dask_address:
        from flows.capacity import run_capacity_sweep

        scenario_data = loaded.model_dump(mode="json")
        report = run_capacity_sweep([scenario_data], workers=workers, dask_address=dask_address)[0]
    else:
        with _progress("simulating", as_json) as advance:
            report = run_simulation(loaded, advance, workers)
    paths = _plots(report, plot)
    if as_json:
        from essence.cli.render import print_json

        print_json(report.model_dump(mode="json"))
        return
    _render_simulation(report)
    for path in paths:
        _console().print(f"chart: {path}")


def capacity_command(
    children_per_year: Annotated[
        float, typer.Option("--children-per-year", help="Referrals per year to staff for.")
    ] = 300,
    target_p90_days: Annotated[
        float, typer.Option("--target-p90-days", help="90th percentile lead time to meet, days.")
    ] = 90,
    setup: Annotated[
        list[str] | None,
        typer.Option("--setup", help="Set-up to compare (repeatable; default: all four)."),
    ] = None,
    policy: Annotated[str, typer.Option("--policy", help="Policy to staff.")] = "coordinated",
    replications: Annotated[
        int, typer.Option("--replications", help="Replications verifying each candidate.")
    ] = 20,
    screen_replications: Annotated[
        int, typer.Option("--screen-replications", min=1, help="Replications per search step.")
    ] = 5,
    years: Annotated[float, typer.Option("--years", help="Referral years per replication.")] = 2,
    seed: SeedOption = None,
    workers: WorkersOption = _default_workers(),
    as_json: JsonFlag = False,
) -> None:
    """Search the smallest staff per profession meeting a p90 target, per team set-up."""
    from essence.services.capacity import SETUPS, search_capacity

    with _progress("searching", as_json, spinner=True) as advance:
        report = search_capacity(
            children_per_year=children_per_year,
            target_p90_days=target_p90_days,
            setups=setup or SETUPS,
            policy=policy,
            screen_replications=screen_replications,
            verify_replications=replications,
            years=years,
            seed=1 if seed is None else seed,
            workers=workers,
            progress=advance,
        )
    if as_json:
        from essence.cli.render import print_json

        print_json(report.model_dump(mode="json"))
        return
    _render_capacity(report)


app = typer.Typer(cls=EssenceGroup, pretty_exceptions_enable=False, no_args_is_help=True)
app.command("simulate")(simulate_command)
app.command("capacity")(capacity_command)


# --- rendering -----------------------------------------------------------------------------


def _console():
    from essence.cli.render import console

    return console


class _progress:
    """A rich progress bar on stderr; yields a callback (done, total) or (message)."""

    def __init__(self, label: str, quiet: bool, spinner: bool = False) -> None:
        self.label, self.quiet, self.spinner = label, quiet, spinner

    def __enter__(self):
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from essence.cli.render import error_console

        columns = [SpinnerColumn(), TextColumn("{task.description}")]
        if not self.spinner:
            columns += [BarColumn(), TextColumn("{task.completed}/{task.total} replications")]
        self.bar = Progress(*columns, TimeElapsedColumn(), console=error_console, transient=True)
        self.bar.start()
        self.task = self.bar.add_task(self.label, total=None)
        return self._advance

    def _advance(self, done: Any, total: int | None = None) -> None:
        if total is None:
            self.bar.update(self.task, description=f"{self.label}: {done}")
        else:
            self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def _plots(report: SimulationReport, folder: Path | None) -> list[Path]:
    if folder is None:
        return []
    from essence.services.capacity import plot_report

    return plot_report(report, folder)


def _ci(value: Estimate | None, digits: int = 1, scale: float = 1.0) -> str:
    if value is None or value.mean is None:
        return "<5"
    text = f"{value.mean * scale:.{digits}f}"
    if value.low is not None and value.high is not None:
        text += f" ±{(value.high - value.mean) * scale:.{digits}f}"
    return text


def _render_simulation(report: SimulationReport) -> None:
    from rich.table import Table

    console = _console()
    title = (
        f"{report.children_per_year:.0f} children/year, {report.years:g} years, "
        f"{report.replications} replications, set-up {report.setup} — lead time = referral "
        f"to feedback meeting (days), mean ±95% CI; baseline {report.baseline_days:.0f} days"
    )
    table = Table(title=title)
    columns = ("policy", "median", "p90", f"≤{report.target_days:.0f} days %", "visit days")
    columns += ("family km/child", "staff km/year", "completed %", "equity gap p90")
    for column in columns:
        table.add_column(column, justify="right" if column != "policy" else "left")
    for p in report.policies:
        table.add_row(
            p.policy, _ci(p.median_days), _ci(p.p90_days), _ci(p.within_target_share, 1, 100),
            _ci(p.visit_days), _ci(p.family_km_per_child, 0), _ci(p.staff_km_per_year, 0),
            _ci(p.completed_share, 1, 100),
            "—" if p.equity_gap_days is None else f"{p.equity_gap_days:.1f}",
        )  # fmt: skip
    console.print(table)
    console.print(_professions_table(report))
    console.print(_groups_table(report))
    console.print(
        f"{report.events:,} events in {report.wall_seconds:.1f} s "
        f"({report.events_per_second:,.0f} events/s)"
    )


def _professions_table(report: SimulationReport):
    from rich.table import Table

    table = Table(title="Load per profession: utilisation % and mean waiting steps (±95% CI)")
    table.add_column("profession")
    table.add_column("staff", justify="right")
    for p in report.policies:
        table.add_column(f"{p.policy} util %", justify="right")
        table.add_column(f"{p.policy} queue", justify="right")
    first = report.policies[0].professions
    for i, row in enumerate(first):
        cells = [row.profession, str(row.staff)]
        for p in report.policies:
            figures = p.professions[i]
            cells += [_ci(figures.utilisation, 0, 100), _ci(figures.queue_length)]
        table.add_row(*cells)
    return table


_DIMENSIONS = {"municipality_group": "region", "gender": "gender", "age_band": "age"}


def _groups_table(report: SimulationReport):
    from rich.table import Table

    table = Table(title="Equity: lead time by group, median / p90 days (<5 = suppressed)")
    table.add_column("group")
    table.add_column("children/year", justify="right")
    for p in report.policies:
        table.add_column(f"{p.policy} median", justify="right")
        table.add_column(f"{p.policy} p90", justify="right")
    per_policy = [[g for g in p.groups if g.dimension != "municipality"] for p in report.policies]
    for i, group in enumerate(per_policy[0]):
        label = f"{_DIMENSIONS.get(group.dimension, group.dimension)} {group.name}"
        cells = [label, "<5" if group.suppressed else f"{group.children_per_year:.0f}"]
        for groups in per_policy:
            cells += [_ci(groups[i].median_days), _ci(groups[i].p90_days)]
        table.add_row(*cells)
    return table


_SHORT = {
    "bhv_nurse": "bhv",
    "coordinator": "coord",
    "habilitation": "hab",
    "physician": "phys",
    "physiotherapist": "pt",
    "psychologist": "psy",
    "speech_therapist": "slt",
}


def _render_capacity(report: CapacityReport) -> None:
    from rich.table import Table

    table = Table(
        title=f"Smallest staffing for {report.children_per_year:.0f} children/year with p90 ≤ "
        f"{report.target_p90_days:.0f} days ({report.policy}); p90 mean ±95% CI"
    )
    for column in ("set-up", "staff per profession", "staff", "FTE", "p90 days", "median days",
                   "equity gap", "staff km/yr", "family km/yr", "meets"):  # fmt: skip
        table.add_column(
            column, justify="left" if column in ("set-up", "staff per profession") else "right"
        )
    for c in report.candidates:
        staff = ", ".join(f"{k} {v}" for k, v in c.staff_by_profession.items())
        if len(c.teams) > 1:
            staff += "\n" + "\n".join(
                f"{t['base']}: "
                + ", ".join(f"{_SHORT.get(p, p)} {n}" for p, n in t["staff"].items())
                for t in c.teams
            )
        table.add_row(
            c.setup, staff, str(c.staff_total), f"{c.fte:.1f}", _ci(c.p90_days), _ci(c.median_days),
            "—" if c.equity_gap_days is None else f"{c.equity_gap_days:.1f}",
            f"{c.staff_km_per_year or 0:,.0f}", f"{c.family_km_per_year or 0:,.0f}",
            "yes" if c.meets_target else "NO",
        )  # fmt: skip
    _console().print(table)
    _console().print(f"search took {report.wall_seconds:.1f} s")
