"""Talking to the region: FHIR R4 referrals in and care plans out, and the term follow-up page.

`POST /api/v1/fhir/Bundle` opens a case from a referral Bundle and `GET
/api/v1/fhir/CarePlan/{id}` returns the care-plan Bundle; their errors are FHIR
OperationOutcomes naming the element path. `/report/term` is the printable follow-up
(Swedish) for coordinators and planners, with the workbook as a download.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from essence.adapters.fhir import export_bundle, import_bundle
from essence.adapters.fhir.outcome import operation_outcome, transaction_response
from essence.domain.errors import EssenceError, InvalidInput
from essence.domain.followup import Period, term_of, term_period
from essence.services.context import ServiceContext
from essence.services.followup import FollowUpView, follow_up_report
from essence.web import i18n
from essence.web.deps import api_context, web_state
from essence.web.pages import SignedIn, render
from essence.web.problems import ERROR_RESPONSES, status_of

FHIR_JSON = "application/fhir+json"
router = APIRouter()
Context = Annotated[ServiceContext, Depends(api_context)]
CaseId = Annotated[str, Path(min_length=1, max_length=20)]
_BUNDLE_BODY = {
    "requestBody": {
        "required": True,
        "description": "A FHIR R4 transaction Bundle: Patient, ServiceRequest, RelatedPerson, "
        "Consent, Organization.",
        "content": {
            FHIR_JSON: {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}
_FHIR_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    400: {"description": "Not JSON: an OperationOutcome"},
    422: {"description": "Not a valid referral: an OperationOutcome naming the element path"},
}


def fhir_response(data: dict[str, Any], status: int = 200, **headers: str) -> JSONResponse:
    """FHIR JSON with its media type."""
    return JSONResponse(data, status_code=status, media_type=FHIR_JSON, headers=headers or None)


def outcome_response(error: EssenceError) -> JSONResponse:
    """An essence error as an OperationOutcome: 400 for text that is not JSON, else as problems."""
    status, _title = status_of(error)
    if isinstance(error, InvalidInput) and error.field == "Bundle" and "JSON" in error.reason:
        status = 400
    return fhir_response(operation_outcome(error), status)


@router.post(
    "/api/v1/fhir/Bundle",
    status_code=201,
    tags=["fhir"],
    openapi_extra=_BUNDLE_BODY,
    responses=_FHIR_RESPONSES,
)
async def post_referral_bundle(request: Request, ctx: Context) -> Response:
    """Open a case from the region's FHIR referral (coordinators); answers a transaction
    response."""
    raw = await request.body()
    try:
        view = import_bundle(ctx, raw)
    except EssenceError as error:
        return outcome_response(error)
    location = f"/api/v1/fhir/CarePlan/{view.id}"
    answer = transaction_response(raw, view.id)
    return fhir_response(answer, 201, Location=location)


@router.get("/api/v1/fhir/CarePlan/{case_id}", tags=["fhir"], responses=_FHIR_RESPONSES)
def get_care_plan(case_id: CaseId, request: Request, ctx: Context) -> Response:
    """The case's care plan as a FHIR Bundle (coordinator, clinicians taking part; audited)."""
    try:
        base = str(request.base_url).rstrip("/") + "/api/v1/fhir"
        return fhir_response(export_bundle(ctx, case_id, base))
    except EssenceError as error:
        return outcome_response(error)


# --- the term follow-up page ------------------------------------------------------------------

GROUP_LABELS = {  # translated when shown
    "all": i18n.N_("All"),
    "boy": i18n.N_("Boys"),
    "girl": i18n.N_("Girls"),
    "umea": "Umeå",
    "coast": i18n.N_("Coast"),
    "inland": i18n.N_("Inland"),
}
DIMENSION_LABELS = {
    "gender": i18n.N_("By gender"),
    "age_band": i18n.N_("By age at referral (years)"),
    "municipality_group": i18n.N_("By municipality group"),
}


def _period(term: str, first: str, last: str, today: date) -> Period:
    if first or last:
        start = _date("from", first) if first else date(today.year, 1, 1)
        end = _date("to", last) if last else today
        return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")
    return term_period(term) if term else term_of(today)


def _date(field: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, value, i18n.N_("expected a date as YYYY-MM-DD")) from None


def _report(request: Request, session: Any, term: str, first: str, last: str) -> FollowUpView:
    state = web_state(request)
    period = _period(term, first, last, state.today())
    return follow_up_report(state.context(session.user_id), period)


@router.get("/report/term", response_class=HTMLResponse, include_in_schema=False)
def term_page(
    request: Request,
    session: SignedIn,
    term: Annotated[str, Query(max_length=10)] = "",
    first: Annotated[str, Query(alias="from", max_length=10)] = "",
    last: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> HTMLResponse:
    """The printable term follow-up in Swedish (coordinators and planners)."""
    view = _report(request, session, term, first, last)
    return render(
        request,
        "followup.html",
        session,
        report=view,
        term=term or view.period,
        groups=GROUP_LABELS,
        dimensions=DIMENSION_LABELS,
    )


@router.get("/report/term.xlsx", include_in_schema=False)
def term_workbook(
    request: Request,
    session: SignedIn,
    term: Annotated[str, Query(max_length=10)] = "",
    first: Annotated[str, Query(alias="from", max_length=10)] = "",
    last: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    """The same follow-up as an Excel workbook (one sheet per breakdown)."""
    from essence.adapters.followup_files import xlsx_bytes

    view = _report(request, session, term, first, last)
    name = f"uppfoljning-{view.period}.xlsx".replace("..", "_")
    return Response(
        xlsx_bytes(view),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
