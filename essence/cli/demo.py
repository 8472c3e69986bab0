"""`essence demo`: set up a fresh SQLite file, run the synthetic cohort, print the summary."""

from __future__ import annotations

from pathlib import Path

from essence.cli.render import console, print_json


def run_demo_command(db_file: Path, children: int, seed: int, as_json: bool) -> None:
    """Recreate `db_file`, run the demo with a progress bar and print the figures."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from essence import bootstrap
    from essence.cli.render_reports import render_comparison, render_report
    from essence.domain.calendar import at_local
    from essence.services.demo import DEMO_START, SimulatedClock, run_demo

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db_file}"
    bootstrap.initialise(database_url=url, demo_team=True)
    clock = SimulatedClock(at_local(DEMO_START))
    ctx = bootstrap.context(database_url=url, clock=clock)
    with Progress(
        TextColumn("[bold]simulating[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} days"),
        TimeElapsedColumn(),
        console=console if not as_json else None,
        transient=as_json,
        disable=as_json,
    ) as progress:
        task = progress.add_task("", total=None)

        def on_day(day: object, total: int) -> None:
            progress.update(task, advance=1, total=total, description=str(day))

        result = run_demo(ctx, clock, seed=seed, children=children, on_day=on_day)
    from essence.cli.passwords import print_new_passwords
    from essence.services.auth import issue_demo_passwords

    passwords = issue_demo_passwords(ctx)
    if as_json:
        print_json(
            {
                "database": url,
                "start": result.start,
                "end": result.end,
                "cases_opened": result.cases_opened,
                "steps_completed": result.steps_completed,
                "plans_made": result.plans_made,
                "comparison": [figures.__dict__ for figures in result.comparison],
                "report": result.report.model_dump(mode="json"),
            }
        )
        print_new_passwords(passwords, to_stderr=True)
        return
    console.rule("essence demo: the combined scheduler on the coordinated pathway")
    console.print(
        f"{result.cases_opened} synthetic children referred {result.start} onwards, "
        f"{result.days_simulated} days simulated to {result.end}, "
        f"{result.steps_completed} steps done, {result.plans_made} plans booked."
    )
    render_report(result.report)
    render_comparison(result.comparison)
    console.print(
        f"Explore it: [bold]ESSENCE_DATABASE_URL={url} essence --as coord-1 case list[/], "
        f"or the web app: [bold]ESSENCE_DATABASE_URL={url} essence web[/] and sign in with:"
    )
    print_new_passwords(passwords)
