"""The `essence` command line: one sub-app per noun, `--json` on every read command.

Commands only parse, call a service and render. Prefect is imported by `essence serve`
alone, so interactive commands start fast and never spin up an orchestration engine.
Nouns and commands of other modules are registered in `LAZY_COMMANDS` as
``"module:attribute"``: a command imports and builds only itself (see `essence.cli.lazy`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from essence.cli.common import STATE, EssenceGroup, JsonOption, emit, service_context
from essence.cli.lazy import LazyGroup

LAZY_COMMANDS: dict[str, object] = {
    "worklist": "essence.cli.steps:worklist_command",
    "simulate": "essence.cli.simulate:simulate_command",
    "capacity": "essence.cli.simulate:capacity_command",
    "web": "essence.cli.web:web_command",
    "case": "essence.cli.cases:app",
    "step": "essence.cli.steps:app",
    "pathway": "essence.cli.pathway:app",
    "clinician": "essence.cli.team:clinician_app",
    "user": "essence.cli.team:user_app",
    "schedule": "essence.cli.schedule:app",
    "bench": "essence.cli.bench:app",
    "report": "essence.cli.region:report_command",
    "twin": "essence.cli.twin:twin_command",
    "db": "essence.cli.ops:db_app",
    "backup": "essence.cli.ops:backup_command",
    "restore": "essence.cli.ops:restore_command",
}


class RootGroup(EssenceGroup, LazyGroup):
    """`essence`: essence errors become one stderr line; commands load on first use."""

    lazy_commands = LAZY_COMMANDS


app = typer.Typer(
    cls=RootGroup,
    help="essence: one coordinated ESSENCE assessment per child, measured against 20 weeks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def root(
    as_user: Annotated[
        str | None,
        typer.Option("--as", envvar="ESSENCE_USER", help="Act as this user (or set ESSENCE_USER)."),
    ] = None,
) -> None:
    """Coordinated ESSENCE assessments: cases, steps, schedules, lead times, capacity."""
    from essence.logging_setup import configure_logging
    from essence.services.tracing import set_request_id

    STATE.user = as_user
    configure_logging("cli")
    set_request_id()


@app.command("init")
def init(
    demo: Annotated[
        bool, typer.Option("--demo", help="Also add the synthetic demo team and logins.")
    ] = False,
) -> None:
    """Create or migrate the database, load the default pathway (and the demo team); logins
    created now get a password, printed once (existing passwords are never reset)."""
    from essence import bootstrap
    from essence.cli.passwords import print_new_passwords
    from essence.cli.render import console
    from essence.services.auth import issue_demo_passwords

    where, created = bootstrap.initialise(demo_team=demo)
    console.print(f"database ready: {where}")
    if created:
        console.print("logins created: " + ", ".join(created))
    if created:
        print_new_passwords(issue_demo_passwords(bootstrap.context(), only=created))


@app.command("demo")
def demo(
    db_file: Annotated[Path, typer.Option(help="SQLite file for the demo (recreated).")] = Path(
        "essence-demo.db"
    ),
    children: Annotated[
        int, typer.Option(min=1, max=2000, help="Children in the synthetic cohort.")
    ] = 40,
    seed: Annotated[
        int, typer.Option(help="Seed of the random cohort (same seed, same figures).")
    ] = 2026,
    as_json: JsonOption = False,
) -> None:
    """The main job: a synthetic cohort through the engine, summarised against 20 weeks."""
    from essence.cli.demo import run_demo_command

    run_demo_command(db_file, children, seed, as_json)


@app.command("sweep")
def sweep_command(as_json: JsonOption = False) -> None:
    """Run the daily sweep now, without Prefect, as you (coordinator or admin): overdue
    steps, steps needing review and cases at risk."""
    from essence.cli.render_reports import render_sweep
    from essence.services.sweep import daily_sweep

    emit(daily_sweep(service_context()), as_json, render_sweep)


@app.command("audit")
def audit_command(
    case_id: Annotated[str, typer.Option("--case", help="Case id.")],
    as_json: JsonOption = False,
) -> None:
    """The guardian's log extract: every read and change of the case (Patient Data Act)."""
    from essence.cli.render_reports import render_audit
    from essence.services.reporting import audit_extract

    emit(audit_extract(service_context(), case_id), as_json, render_audit)


@app.command("serve")
def serve_command() -> None:
    """Serve the Prefect flows: the daily sweep weekdays 07:00 Europe/Stockholm, and more."""
    from flows.serve import serve_all

    serve_all()


def main() -> None:
    """Entry point of ``python -m essence.cli.app``: as the `essence` console script
    (`essence.cli.client`), short commands run in the resident worker, the rest here."""
    from essence.cli.client import main as run

    run(app)


if __name__ == "__main__":
    main()
