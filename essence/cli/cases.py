"""`essence case …`: the coordinator opens, lists, shows, consents and withdraws cases."""

from __future__ import annotations

from typing import Annotated

import typer

from essence.cli.common import JsonOption, emit, parse_date, service_context
from essence.domain.professions import Profession, parse_enum

app = typer.Typer(help="Open, list, show and withdraw cases (coordinator).", no_args_is_help=True)


@app.command("open")
def open_case(
    personnummer: Annotated[str, typer.Option(help="The child's personnummer, YYYYMMDD-NNNC.")],
    name: Annotated[str, typer.Option(help="The child's name.")],
    municipality: Annotated[str, typer.Option(help="Home municipality in Västerbotten.")],
    referring_unit: Annotated[str, typer.Option(help="Who referred, e.g. 'BHV Ålidhem'.")],
    referral_date: Annotated[str, typer.Option(help="Day the referral arrived, YYYY-MM-DD.")],
    consent: Annotated[
        int,
        typer.Option(help="Guardians 1..N have consented already (0, 1 or 2); none unless given."),
    ] = 0,
    guardians: Annotated[
        int, typer.Option(help="Guardians with custody (1 = sole custody, or 2).")
    ] = 2,
    pathway: Annotated[str, typer.Option(help="Pathway template name.")] = "essence-default",
    team_travels: Annotated[
        bool, typer.Option(help="The team visits the family's municipality.")
    ] = False,
    assign: Annotated[
        list[str] | None,
        typer.Option(help="PROFESSION=CLINICIAN, e.g. psychologist=psy-2 (repeatable)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Open a case from a referral; steps get assigned, and with consent the first are ready."""
    from essence.services.cases import Referral
    from essence.services.cases import open_case as open_service

    explicit = {}
    for item in assign or []:
        profession, _, clinician = item.partition("=")
        explicit[parse_enum(Profession, "assign", profession)] = clinician
    referral = Referral(
        personnummer=personnummer,
        child_name=name,
        municipality=municipality,
        referring_unit=referring_unit,
        referral_date=parse_date("referral date", referral_date),
        guardians=guardians,
        consenting=consent,
        pathway=pathway,
        team_travels=team_travels,
        assign=explicit,
    )
    view = open_service(service_context(), referral)
    from essence.cli.render_cases import render_case

    emit(view, as_json, render_case)


@app.command("show")
def show(
    case_id: Annotated[str, typer.Argument(help="Case id.")], as_json: JsonOption = False
) -> None:
    """Everything about one case: steps, who does them, projected feedback date."""
    from essence.cli.render_cases import render_case
    from essence.services.cases import show_case

    emit(show_case(service_context(), case_id), as_json, render_case)


@app.command("list")
def list_(
    all_cases: Annotated[
        bool, typer.Option("--all", help="Include closed and withdrawn cases.")
    ] = False,
    municipality: Annotated[
        str | None, typer.Option(help="Only cases from this municipality.")
    ] = None,
    at_risk: Annotated[bool, typer.Option(help="Only cases at risk of 90 or 140 days.")] = False,
    waiting_on: Annotated[
        str | None, typer.Option(help="Only cases waiting on this profession now.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every case with progress, what it waits on, and its risk against 90 and 140 days."""
    from essence.cli.render_cases import render_case_list
    from essence.services.cases import list_cases

    rows = list_cases(
        service_context(),
        open_only=not all_cases,
        municipality_name=municipality,
        at_risk_only=at_risk,
        waiting_on=parse_enum(Profession, "waiting-on", waiting_on) if waiting_on else None,
    )
    emit(rows, as_json, render_case_list)


@app.command("consent")
def consent(
    case_id: Annotated[str, typer.Argument(help="Case id.")],
    guardian: Annotated[
        int | None, typer.Option(help="Which guardian (1 or 2; vårdnadshavare 1/2).")
    ] = None,
    given: Annotated[
        bool | None,
        typer.Option("--given/--withdrawn", help="Consent given, or withdrawn."),
    ] = None,
    on: Annotated[
        str | None, typer.Option("--date", help="Day the guardian said so (default today).")
    ] = None,
    guardians: Annotated[
        int | None, typer.Option(help="Guardians with custody (1 = sole custody, or 2).")
    ] = None,
    consenting: Annotated[
        int | None,
        typer.Option(
            help="Shorthand: guardians 1..N have consented today, any other has withdrawn."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Record a guardian's consent given or withdrawn; with every guardian's consent the
    first steps become ready, a withdrawal pauses the case and releases its bookings."""
    from essence.cli.render_cases import render_case
    from essence.domain.errors import InvalidInput
    from essence.services.cases import record_consent, record_guardian_consent

    ctx = service_context()
    if consenting is not None:
        if guardian is not None or given is not None or on is not None:
            raise InvalidInput("consenting", consenting, "use either --consenting or --guardian")
        emit(record_consent(ctx, case_id, consenting, guardians), as_json, render_case)
        return
    if guardian is None or given is None:
        raise InvalidInput("guardian", "", "give --guardian 1|2 and --given or --withdrawn")
    day = parse_date("date", on) if on else None
    view = record_guardian_consent(ctx, case_id, guardian, given, day, guardians)
    emit(view, as_json, render_case)


@app.command("withdraw")
def withdraw(
    case_id: Annotated[str, typer.Argument(help="Case id.")],
    reason: Annotated[str, typer.Option(help="Why (no personal data).")] = "withdrawn",
    as_json: JsonOption = False,
) -> None:
    """Withdraw a case; its open steps are cancelled."""
    from essence.cli.render_cases import render_case
    from essence.services.cases import withdraw_case

    emit(withdraw_case(service_context(), case_id, reason), as_json, render_case)
