"""The JSON API under /api/v1: the same read models the CLI's `--json` prints.

Each route parses its input, calls one service as the signed-in user and returns the
service's pydantic view; errors become JSON problems (see `essence.web.problems`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from essence.domain.errors import PermissionDenied
from essence.domain.professions import Profession
from essence.services import auth, cases, overview, reporting, steps
from essence.services.context import ServiceContext
from essence.services.overview import DashboardCounts
from essence.services.reporting import ReportView
from essence.services.views import AuditLine, CaseSummary, CaseView, StepChange, WorkItemView
from essence.web.deps import api_context, client_address, current_session, web_state
from essence.web.problems import ERROR_RESPONSES
from essence.web.security import SESSION_COOKIE, clear_session_cookie, set_session_cookie

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
Context = Annotated[ServiceContext, Depends(api_context)]
CaseId = Annotated[str, Path(min_length=1, max_length=20)]
StepKey = Annotated[str, Path(min_length=1, max_length=40)]


class Credentials(BaseModel):
    """A sign-in: login id and password."""

    user_id: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)


class SessionView(BaseModel):
    """The signed-in user and the CSRF token to send as X-CSRF-Token on every change."""

    user_id: str
    role: str
    clinician_id: str | None
    csrf_token: str


class ReferralIn(BaseModel):
    """A referral to open a case from (validated by the service, as in `essence case open`)."""

    personnummer: str = Field(max_length=20, description="YYYYMMDD-NNNC (never in a URL)")
    child_name: str = Field(max_length=120)
    municipality: str = Field(max_length=40, description="One of Västerbotten's 15")
    referring_unit: str = Field(max_length=120)
    referral_date: date
    guardians: int = Field(default=2, description="Guardians with custody (1 or 2)")
    consenting: int = Field(default=2, description="How many of them consented")
    pathway: str = Field(default=cases.DEFAULT_PATHWAY, max_length=60)
    team_travels: bool = False


class ConsentIn(BaseModel):
    """Consent as recorded: how many guardians consented (and how many there are)."""

    consenting: int
    guardians: int | None = None


class ReasonIn(BaseModel):
    """Why (a hold or a withdrawal)."""

    reason: str = Field(min_length=1, max_length=200)


class OutcomeIn(BaseModel):
    """A short outcome note of a completed step (no personal data)."""

    outcome: str = Field(default="", max_length=200)


@router.post("/session", response_model=SessionView, tags=["session"])
def sign_in(credentials: Credentials, request: Request, response: Response) -> SessionView:
    """Sign in with a password; sets the http-only session cookie, returns the CSRF token."""
    state = web_state(request)
    client, login = (client_address(request),), (credentials.user_id,)
    if not (state.login_limit_client.allow(*client) and state.login_limit_user.allow(*login)):
        wait = max(
            state.login_limit_client.retry_after(*client),
            state.login_limit_user.retry_after(*login),
        )
        raise HTTPException(
            429, "too many sign-in attempts; wait a minute", headers={"Retry-After": str(wait)}
        )
    try:
        user = auth.authenticate(state.context(None), credentials.user_id, credentials.password)
    except PermissionDenied:
        raise HTTPException(
            401, "wrong user id or password", headers={"WWW-Authenticate": 'Cookie realm="essence"'}
        ) from None
    state.sessions.end(request.cookies.get(SESSION_COOKIE))
    session = state.sessions.create(user.id, user.role.value)
    set_session_cookie(response, session, secure=state.secure_cookies)
    return SessionView(
        user_id=user.id,
        role=user.role.value,
        clinician_id=user.clinician_id,
        csrf_token=session.csrf,
    )


@router.delete("/session", status_code=204, tags=["session"])
def sign_out(request: Request, _ctx: Context) -> Response:
    """Sign out: the server forgets the session."""
    state = web_state(request)
    session = current_session(request)
    state.sessions.end(session.token if session else None)
    response = Response(status_code=204)
    clear_session_cookie(response, secure=state.secure_cookies)
    return response


@router.get("/cases", response_model=list[CaseSummary], tags=["cases"])
def list_cases(
    ctx: Context,
    municipality: Annotated[str | None, Query(max_length=40)] = None,
    at_risk: bool = False,
    include_closed: bool = False,
    waiting_on: Profession | None = None,
) -> list[CaseSummary]:
    """Cases with progress and risk: all for coordinators, one's own for clinicians."""
    return cases.list_cases(
        ctx,
        open_only=not include_closed,
        municipality_name=municipality,
        at_risk_only=at_risk,
        waiting_on=waiting_on,
    )


class SearchIn(BaseModel):
    """What to look for: a name, a personnummer in any common format, or a case-id prefix."""

    q: str = Field(min_length=1, max_length=100)


@router.post("/search", response_model=list[CaseSummary], tags=["cases"])
def search_cases(body: SearchIn, ctx: Context) -> list[CaseSummary]:
    """Cases matching a name, personnummer or case-id prefix; every hit is audited. A POST,
    so a personnummer never travels in a URL (logs, history)."""
    return overview.search_cases(ctx, body.q)


@router.get("/overview/counts", response_model=DashboardCounts, tags=["cases"])
def dashboard_counts(ctx: Context) -> DashboardCounts:
    """Open cases at risk of 90 and 140 days, waiting on consent, not scheduled, to review."""
    return overview.dashboard_counts(ctx)


@router.post("/cases", response_model=CaseView, status_code=201, tags=["cases"])
def open_case(referral: ReferralIn, ctx: Context) -> CaseView:
    """Open a case from a referral (coordinators)."""
    return cases.open_case(ctx, cases.Referral(**referral.model_dump()))


@router.get("/cases/{case_id}", response_model=CaseView, tags=["cases"])
def show_case(case_id: CaseId, ctx: Context) -> CaseView:
    """One case in full, for its coordinator or a clinician who takes part (audited)."""
    return cases.show_case(ctx, case_id)


@router.get("/cases/{case_id}/audit", response_model=list[AuditLine], tags=["cases"])
def audit_trail(case_id: CaseId, ctx: Context) -> list[AuditLine]:
    """The case's audit trail, the guardian's log extract (coordinators)."""
    return reporting.audit_extract(ctx, case_id)


@router.post("/cases/{case_id}/consent", response_model=CaseView, tags=["cases"])
def record_consent(case_id: CaseId, consent: ConsentIn, ctx: Context) -> CaseView:
    """Record the guardians' consent (coordinators)."""
    return cases.record_consent(ctx, case_id, consent.consenting, consent.guardians)


@router.post("/cases/{case_id}/withdraw", response_model=CaseView, tags=["cases"])
def withdraw_case(case_id: CaseId, body: ReasonIn, ctx: Context) -> CaseView:
    """Withdraw a case; its open steps are cancelled (coordinators)."""
    return cases.withdraw_case(ctx, case_id, body.reason)


@router.get("/worklist", response_model=list[WorkItemView], tags=["steps"])
def worklist(
    ctx: Context, clinician: Annotated[str | None, Query(max_length=40)] = None
) -> list[WorkItemView]:
    """Ready, started and held steps of a clinician (one's own unless a coordinator)."""
    return steps.worklist(ctx, clinician)


@router.post("/cases/{case_id}/steps/{step_key}/start", response_model=StepChange, tags=["steps"])
def start_step(case_id: CaseId, step_key: StepKey, ctx: Context) -> StepChange:
    """Start a ready step."""
    return steps.start_step(ctx, case_id, step_key)


@router.post(
    "/cases/{case_id}/steps/{step_key}/complete", response_model=StepChange, tags=["steps"]
)
def complete_step(case_id: CaseId, step_key: StepKey, body: OutcomeIn, ctx: Context) -> StepChange:
    """Complete a step with an outcome note; its successors become ready."""
    return steps.complete_step(ctx, case_id, step_key, body.outcome)


@router.post("/cases/{case_id}/steps/{step_key}/hold", response_model=StepChange, tags=["steps"])
def hold_step(case_id: CaseId, step_key: StepKey, body: ReasonIn, ctx: Context) -> StepChange:
    """Put a step on hold with a reason."""
    return steps.hold_step(ctx, case_id, step_key, body.reason)


@router.post("/cases/{case_id}/steps/{step_key}/resume", response_model=StepChange, tags=["steps"])
def resume_step(case_id: CaseId, step_key: StepKey, ctx: Context) -> StepChange:
    """Take a held step back to where it was."""
    return steps.resume_step(ctx, case_id, step_key)


@router.get("/report", response_model=ReportView, tags=["reports"])
def lead_time_report(
    ctx: Context, referred_from: date | None = None, referred_to: date | None = None
) -> ReportView:
    """Lead times against 140 days; planners get aggregates only (counts under 5 hidden)."""
    return reporting.report(ctx, referred_from=referred_from, referred_to=referred_to)
