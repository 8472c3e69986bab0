"""`essence schedule …`: plan and book the combined investigations, show and export them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from essence.cli.common import JsonOption, check_writable, emit, service_context

app = typer.Typer(help="Plan, show and export the combined investigations.", no_args_is_help=True)

BudgetOption = Annotated[
    float, typer.Option("--budget-s", help="Solver time budget in seconds (> 0).")
]


@app.command("plan")
def plan(
    horizon_weeks: Annotated[
        int, typer.Option("--horizon-weeks", help="Rolling horizon in weeks (> 0).")
    ] = 10,
    budget_s: BudgetOption = 30.0,
    move_bookings: Annotated[
        bool, typer.Option(help="Allow moving booked appointments (each move costs).")
    ] = False,
    greedy: Annotated[bool, typer.Option(help="Only the fast greedy plan (no CP-SAT).")] = False,
    dry_run: Annotated[bool, typer.Option(help="Plan without booking anything.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="CP-SAT worker threads.")] = 2,
    seed: Annotated[int, typer.Option(help="CP-SAT random seed.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Plan every open case over the horizon and book it (kept bookings do not move)."""
    from essence.cli.render_schedule import render_plan
    from essence.services.scheduling import plan_schedule

    view = plan_schedule(
        service_context(),
        horizon_weeks=horizon_weeks,
        budget_s=budget_s,
        move_bookings=move_bookings,
        workers=workers,
        seed=seed,
        use_cpsat=not greedy,
        book=not dry_run,
    )
    emit(view, as_json, render_plan)


@app.command("show")
def show(
    case: Annotated[str | None, typer.Option("--case", help="One case's appointments.")] = None,
    clinician: Annotated[
        str | None, typer.Option("--clinician", help="One clinician's calendar.")
    ] = None,
    week: Annotated[str | None, typer.Option("--week", help="ISO week, e.g. 2027-W05.")] = None,
    history: Annotated[
        bool, typer.Option(help="Also attended, cancelled and missed appointments.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show booked appointments as a calendar, by case, clinician or week."""
    from essence.cli.render_schedule import render_calendar
    from essence.services.scheduling import show_schedule

    rows = show_schedule(
        service_context(), case_id=case, clinician_id=clinician, week=week, history=history
    )
    emit(rows, as_json, render_calendar)


@app.command("export")
def export(
    clinician: Annotated[str, typer.Option("--clinician", help="Clinician id.")],
    out: Annotated[Path | None, typer.Option(help="Write the .ics here (default: stdout).")] = None,
) -> None:
    """Export a clinician's booked appointments as an iCalendar (.ics) file."""
    from essence.services.scheduling import clinician_calendar

    check_writable("out", out)
    _write(clinician_calendar(service_context(), clinician), out)


@app.command("letter")
def letter(
    case_id: Annotated[str, typer.Argument(help="Case id.")],
    out: Annotated[
        Path | None, typer.Option(help="Write the letter here (default: stdout).")
    ] = None,
    ics: Annotated[Path | None, typer.Option(help="Also write the family's .ics here.")] = None,
) -> None:
    """The family letter: dates, times, places and who they meet (and an .ics)."""
    from essence.services.scheduling import family_documents

    check_writable("out", out)
    check_writable("ics", ics)
    text, calendar = family_documents(service_context(), case_id)
    _write(text, out)
    if ics is not None:
        _write(calendar, ics)


def _write(text: str, path: Path | None) -> None:
    if path is None:
        print(text, end="" if text.endswith("\n") else "\n")
        return
    path.write_text(text, encoding="utf-8", newline="")
    from essence.cli.render import console

    console.print(f"written: {path}")
