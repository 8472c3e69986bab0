"""`essence case edit` and `essence case needs`: what a family needs from the plan.

Blocked weekdays or dates, an interpreter (language and extra minutes on family-facing
steps), a preferred clinic site or video; the planner honours them as hard rules.
"""

from __future__ import annotations

from typing import Annotated

import typer

from essence.cli.common import (
    JsonOption,
    ReplanBudgetOption,
    ReplanOption,
    emit,
    replan_if_asked,
    service_context,
)
from essence.domain.family import FamilyNeeds, parse_dates, parse_weekdays

BlockedWeekdays = Annotated[
    str | None, typer.Option(help="Weekdays the family cannot come, e.g. fri or mon,fri.")
]
BlockedDates = Annotated[
    str | None, typer.Option(help="Dates the family cannot come, e.g. 2027-04-02,2027-04-09.")
]
Interpreter = Annotated[
    str | None, typer.Option(help="Interpreter language (empty string: no interpreter).")
]
InterpreterMinutes = Annotated[
    int | None, typer.Option(help="Extra minutes per family-facing step for the interpreter.")
]
PreferredSite = Annotated[
    str | None, typer.Option(help="Clinic site the family prefers (Umeå, Skellefteå, Lycksele).")
]
Video = Annotated[
    bool | None, typer.Option("--video/--no-video", help="Hold steps that allow video by video.")
]


def needs_from_options(
    blocked_weekdays: str | None,
    blocked_dates: str | None,
    interpreter: str | None,
    interpreter_minutes: int | None,
    preferred_site: str | None,
    video: bool | None,
) -> FamilyNeeds:
    """The needs typed on `case open` (validated; bad input names the field)."""
    return FamilyNeeds(
        blocked_weekdays=parse_weekdays(blocked_weekdays or ""),
        blocked_dates=parse_dates(blocked_dates or ""),
        interpreter_language=interpreter or "",
        interpreter_minutes=interpreter_minutes
        if interpreter_minutes is not None
        else (30 if interpreter else 0),
        preferred_site=preferred_site or "",
        video_preferred=bool(video),
    )


def edit(
    case_id: Annotated[str, typer.Argument(help="Case id.")],
    blocked_weekdays: BlockedWeekdays = None,
    blocked_dates: BlockedDates = None,
    interpreter: Interpreter = None,
    interpreter_minutes: InterpreterMinutes = None,
    preferred_site: PreferredSite = None,
    video: Video = None,
    clear: Annotated[bool, typer.Option(help="Forget every need before applying these.")] = False,
    replan: ReplanOption = True,
    budget_s: ReplanBudgetOption = 2.0,
    as_json: JsonOption = False,
) -> None:
    """Change what the family needs; the next `schedule plan` honours it. Bookings on a
    day the family can no longer come are released at once (and, unless --no-replan,
    booked again right away)."""
    from essence.services.family import update_family_needs

    changes: dict[str, object] = {
        "blocked_weekdays": parse_weekdays(blocked_weekdays)
        if blocked_weekdays is not None
        else None,
        "blocked_dates": parse_dates(blocked_dates) if blocked_dates is not None else None,
        "interpreter_language": interpreter,
        "interpreter_minutes": interpreter_minutes,
        "preferred_site": preferred_site,
        "video_preferred": video,
    }
    if interpreter and interpreter_minutes is None:
        changes["interpreter_minutes"] = 30
    view = update_family_needs(service_context(), case_id, clear=clear, **changes)
    emit(view, as_json, _render)
    if view.released_steps:
        replan_if_asked(replan, budget_s, as_json)


def needs(
    case_id: Annotated[str, typer.Argument(help="Case id.")], as_json: JsonOption = False
) -> None:
    """What the family needs from the plan."""
    from essence.services.family import family_needs

    emit(family_needs(service_context(), case_id), as_json, _render)


def _render(view: object) -> None:
    from essence.cli.render import console

    lines = view.taken_into_account  # type: ignore[attr-defined]
    console.print(f"[bold]{view.case_id}[/] family needs:")  # type: ignore[attr-defined]
    for line in lines or ["nothing asked for"]:
        console.print(f"  {line}")
    released = getattr(view, "released_steps", [])
    if released:
        console.print("released (the family cannot come that day): " + ", ".join(released))


def register(case_app: typer.Typer) -> None:
    """Add `edit` and `needs` to the `essence case` sub-app."""
    case_app.command("edit")(edit)
    case_app.command("needs")(needs)
