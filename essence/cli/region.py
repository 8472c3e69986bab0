"""`essence case import|export` (FHIR R4 with the region's systems) and `essence report`.

`case import FILE` opens a case from a referral Bundle; `case export CASE --fhir` writes
the care plan Bundle. `report` gives the lead-time report, or with a period (`--term`,
`--from/--to`) or a file output the term follow-up for the region.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from essence.cli.common import JsonOption, emit, parse_date, service_context
from essence.domain.errors import InvalidInput

if TYPE_CHECKING:
    from essence.domain.followup import Period
    from essence.services.followup import FollowUpView


def import_command(
    file: Annotated[
        Path, typer.Argument(help="A FHIR R4 transaction Bundle (JSON), or - for stdin.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Open a case from the region's FHIR referral (Patient, ServiceRequest, guardians, Consent)."""
    from essence.adapters.fhir import import_bundle
    from essence.cli.render_cases import render_case

    emit(import_bundle(service_context(), _read(file)), as_json, render_case)


def _read(file: Path) -> bytes:
    if str(file) == "-":
        return typer.get_binary_stream("stdin").read()
    try:
        return file.read_bytes()
    except OSError as error:
        raise InvalidInput("file", str(file), error.strerror or "cannot be read") from None


def export_command(
    case_id: Annotated[str, typer.Argument(help="Case id.")],
    fhir: Annotated[bool, typer.Option("--fhir", help="Write a FHIR R4 Bundle (JSON).")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of stdout.")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="FHIR base of the entries' fullUrl (the web API's)."),
    ] = None,
) -> None:
    """The case's care plan for the region: CarePlan, a Task per step, Appointments, Patient."""
    if not fhir:
        raise InvalidInput("format", "", "choose the export format: --fhir")
    from essence.adapters.fhir import export_bundle

    text = json.dumps(
        export_bundle(service_context(), case_id, base_url), ensure_ascii=False, indent=2
    )
    if out is None:
        typer.echo(text)
        return
    try:
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as error:
        raise InvalidInput("out", str(out), error.strerror or "cannot write") from None
    from essence.cli.render import console

    console.print(f"care plan written: {out}")


def report_command(
    term: Annotated[
        str | None, typer.Option("--term", help="Term follow-up, e.g. 2026H2 (Jul–Dec).")
    ] = None,
    referred_from: Annotated[
        str | None, typer.Option("--from", help="Referrals from (YYYY-MM-DD).")
    ] = None,
    referred_to: Annotated[
        str | None, typer.Option("--to", help="Referrals up to (YYYY-MM-DD).")
    ] = None,
    csv_dir: Annotated[
        Path | None, typer.Option("--csv", help="Write the follow-up as CSV files here.")
    ] = None,
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="Write the follow-up as an Excel workbook.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Lead time vs 140 days; with --term or --from/--to the region's term follow-up."""
    if term is None and referred_from is None and referred_to is None and not (csv_dir or xlsx):
        from essence.cli.render_reports import render_report
        from essence.services.reporting import report

        emit(report(service_context()), as_json, render_report)
        return
    from essence.cli.render_followup import render_follow_up
    from essence.services.followup import follow_up_report

    view = follow_up_report(service_context(), _period(term, referred_from, referred_to))
    if csv_dir is not None or xlsx is not None:
        _write_files(view, csv_dir, xlsx, quiet=as_json)
    emit(view, as_json, render_follow_up)


def _period(term: str | None, first: str | None, last: str | None) -> Period:
    from datetime import date

    from essence.domain.calendar import local_date, now_stockholm
    from essence.domain.followup import Period, term_of, term_period

    if term is not None:
        if first or last:
            raise InvalidInput("term", term, "give either --term or --from/--to, not both")
        return term_period(term)
    if first is None and last is None:
        return term_of(local_date(now_stockholm()))
    start = parse_date("from", first) if first else date(1900, 1, 1)
    end = parse_date("to", last) if last else local_date(now_stockholm())
    return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")


def _write_files(
    view: FollowUpView, csv_dir: Path | None, xlsx: Path | None, *, quiet: bool
) -> None:
    from essence.adapters.followup_files import write_csv, write_xlsx
    from essence.cli.render import error_console

    written = []
    if csv_dir is not None:
        written += write_csv(view, csv_dir)
    if xlsx is not None:
        written.append(write_xlsx(view, xlsx))
    if not quiet:
        error_console.print("written: " + ", ".join(str(p) for p in written))
