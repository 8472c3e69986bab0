"""`essence clinician …` and `essence user …`: the team and its logins."""

from __future__ import annotations

from typing import Annotated

import typer

from essence.cli.common import JsonOption, emit, parse_date, replan_if_asked, service_context
from essence.domain.professions import Organisation, Profession, parse_enum

clinician_app = typer.Typer(help="Add and list clinicians, record absences.", no_args_is_help=True)
user_app = typer.Typer(help="Add and list logins (admin).", no_args_is_help=True)


@clinician_app.command("add")
def add(
    clinician_id: Annotated[str, typer.Argument(help="Staff id, e.g. psy-4.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    profession: Annotated[str, typer.Option(help="psychologist, physician, speech_therapist, …")],
    organisation: Annotated[
        str, typer.Option(help="BUP, BHV, BUC, logopedi, habilitation, primary_care.")
    ],
    base: Annotated[str, typer.Option(help="Municipality of the clinician's base.")] = "Umeå",
    roster: Annotated[
        str, typer.Option(help="Minutes per weekday: 360, or mon=360,tue=240,…")
    ] = "360",
    daily_cap: Annotated[int, typer.Option(help="Most clinical minutes on one day.")] = 360,
    as_json: JsonOption = False,
) -> None:
    """Add a clinician (and a login with the same id)."""
    from essence.domain.team import Clinician, Roster
    from essence.services.team import add_clinician

    clinician = Clinician(
        id=clinician_id,
        name=name,
        profession=parse_enum(Profession, "profession", profession),
        organisation=parse_enum(Organisation, "organisation", organisation),
        base=base,
        roster=Roster.parse(roster),
        daily_cap_minutes=daily_cap,
    )
    emit(add_clinician(service_context(), clinician), as_json, _render_clinicians_one)


@clinician_app.command("list")
def list_(
    profession: Annotated[str | None, typer.Option(help="Only this profession.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The team with weekly minutes and open assigned minutes."""
    from essence.services.team import list_clinicians

    wanted = parse_enum(Profession, "profession", profession) if profession else None
    emit(list_clinicians(service_context(), wanted), as_json, _render_clinicians)


@clinician_app.command("absence")
def absence(
    clinician_id: Annotated[str, typer.Argument(help="Staff id.")],
    first_day: Annotated[str, typer.Option("--from", help="First day away, YYYY-MM-DD.")],
    last_day: Annotated[str, typer.Option("--to", help="Last day away, YYYY-MM-DD.")],
    reason: Annotated[str, typer.Option(help="vacation, course, sick leave, …")] = "vacation",
    replan: Annotated[
        bool,
        typer.Option("--replan/--no-replan", help="Re-plan bookings the absence touches."),
    ] = True,
    budget_s: Annotated[
        float, typer.Option("--budget-s", help="Seconds the re-plan may take.")
    ] = 5.0,
) -> None:
    """Record an absence (both days included)."""
    from essence.cli.render import console
    from essence.domain.team import Absence
    from essence.services.team import add_absence

    period = Absence(parse_date("from", first_day), parse_date("to", last_day), reason)
    view = add_absence(service_context(), clinician_id, period)
    console.print(f"{clinician_id}: away {period.first_day} – {period.last_day} ({reason})")
    if view.released:
        count = len(view.released)
        console.print(
            f"{count} booking{'s' if count > 1 else ''} released: " + ", ".join(view.released)
        )
    if view.kept_frozen:
        console.print(
            "[yellow]kept in the frozen window (the families have been told; arrange "
            "cover):[/] " + ", ".join(view.kept_frozen)
        )
    replan_if_asked(replan, budget_s, False)


def _render_clinicians_one(view: object) -> None:
    _render_clinicians([view])


def _render_clinicians(views: list) -> None:  # type: ignore[type-arg]
    """The team, one clinician a row (narrow terminals: the organisation under the
    profession)."""
    from rich.table import Table

    from essence.cli.render import print_fitting

    wide = Table(title="team")
    for column in ("id", "name", "profession", "organisation", "base", "min/week", "open min"):
        wide.add_column(column)
    compact = Table(title="team")
    for column in ("id", "name", "profession\norganisation", "base", "min/week", "open min"):
        compact.add_column(column, no_wrap=column in ("id", "profession\norganisation", "base"))
    for v in views:
        minutes = (str(v.weekly_minutes), str(v.open_minutes))
        wide.add_row(v.id, v.name, v.profession, v.organisation, v.base, *minutes)
        compact.add_row(v.id, v.name, f"{v.profession}\n{v.organisation}", v.base, *minutes)
    print_fitting(wide, compact)


@user_app.command("add")
def user_add(
    user_id: Annotated[str, typer.Argument(help="Login id.")],
    role: Annotated[str, typer.Option(help="coordinator, clinician, planner or admin.")],
    clinician: Annotated[
        str | None, typer.Option(help="Staff id behind a clinician login.")
    ] = None,
    password: Annotated[
        bool, typer.Option("--password", help="Ask for a password now (hidden, typed twice).")
    ] = False,
) -> None:
    """Create a login with a role (and, with --password, its password for the web app)."""
    from essence.cli.render import console
    from essence.domain.access import Role
    from essence.services.team import add_user

    secret = _ask_password() if password else None
    user = add_user(
        service_context(), user_id, parse_enum(Role, "role", role), clinician, password=secret
    )
    console.print(f"user {user.id} ({user.role.value}) created")


@user_app.command("password")
def user_password(user_id: Annotated[str, typer.Argument(help="Login id.")]) -> None:
    """Set a login's password (admins for anyone, everyone for themselves)."""
    from essence.cli.render import console
    from essence.services.auth import set_password

    set_password(service_context(), user_id, _ask_password())
    console.print(f"password of {user_id} set")


def _ask_password() -> str:
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_app.command("list")
def user_list(as_json: JsonOption = False) -> None:
    """Every login with its role."""
    from essence.cli.render import console
    from essence.services.team import list_users

    users = [
        {"id": u.id, "role": u.role.value, "clinician": u.clinician_id}
        for u in list_users(service_context())
    ]

    def render(rows: list[dict[str, object]]) -> None:
        for row in rows:
            console.print(
                f"{row['id']}: {row['role']}"
                + (f" ({row['clinician']})" if row["clinician"] else "")
            )

    emit(users, as_json, render)
