"""Server-rendered pages: sign-in, coordinator dashboard, case page, open-case form, worklist.

Each route parses its input, calls one service as the signed-in user and renders a Jinja2
template; htmx swaps fragments so the worklist updates without a full reload.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from essence.domain.errors import EssenceError, InvalidInput, NotFound, PermissionDenied
from essence.domain.geography import MUNICIPALITIES
from essence.domain.professions import Profession, parse_enum
from essence.services import auth, cases, reporting, steps
from essence.services.views import WorkItemView
from essence.web.deps import client_address, current_session, web_state
from essence.web.problems import Problem, from_error
from essence.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SAFE_METHODS,
    Session,
    clear_session_cookie,
    csrf_valid,
    set_session_cookie,
)
from essence.web.timeline import badge, timeline

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(files("essence.web") / "templates"))
templates.env.globals["badge"] = badge
LOGIN_CSRF_COOKIE = "essence_login_csrf"
HOME_BY_ROLE = {"clinician": "/worklist", "planner": "/planner", "admin": "/dashboard"}
CaseId = Annotated[str, Path(min_length=1, max_length=20)]
StepKey = Annotated[str, Path(min_length=1, max_length=40)]
FORM_FIELD = {
    "name": "child_name",
    "referral date": "referral_date",
    "referring unit": "referring_unit",
    "consent": "consenting",
}
REFERRAL_FIELDS = (
    "personnummer",
    "child_name",
    "municipality",
    "referring_unit",
    "referral_date",
    "guardians",
    "consenting",
)


async def page_session(request: Request) -> Session:
    """Dependency for pages: the signed-in session; changes need the session's CSRF token.

    Raises:
        HTTPException: 401 (redirects to sign-in) or 403 for a missing or wrong CSRF token.
    """
    session = current_session(request)
    if session is None:
        raise HTTPException(401, "sign in first")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if not sent:
            sent = str((await request.form()).get(CSRF_FIELD) or "")
        if not csrf_valid(session, sent):
            raise HTTPException(403, "the form has expired or did not come from essence; reload")
    return session


SignedIn = Annotated[Session, Depends(page_session)]


def render(
    request: Request, name: str, session: Session | None, status: int = 200, **values: Any
) -> HTMLResponse:
    """Render a template with the session's user and CSRF token."""
    values.update(request=request, session=session, csrf=session.csrf if session else "")
    return templates.TemplateResponse(request, name, values, status_code=status)


def error_page(request: Request, item: Problem) -> HTMLResponse:
    """An error as a page (or as a fragment for htmx requests)."""
    name = "_error.html" if request.headers.get("HX-Request") else "error.html"
    return render(request, name, current_session(request), item.status, problem=item)


# --- signing in ------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """Send each role to its page."""
    session = current_session(request)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(HOME_BY_ROLE.get(session.role, "/dashboard"), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    """The sign-in form (its CSRF token is a double-submit cookie until there is a session)."""
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", None, login_csrf=token, error="")
    state = web_state(request)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, secure=state.secure_cookies, samesite="strict"
    )
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    user_id: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Check the password (rate-limited), start a session, go to the role's page."""
    state = web_state(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        raise HTTPException(403, "the sign-in form has expired; reload the page")
    if not (
        state.login_limit_client.allow(client_address(request))
        and state.login_limit_user.allow(user_id)
    ):
        return render(
            request, "login.html", None, 429, login_csrf=expected, error="Too many attempts."
        )
    try:
        user = auth.authenticate(state.context(None), user_id, password)
    except PermissionDenied:
        return render(
            request,
            "login.html",
            None,
            401,
            login_csrf=expected,
            error="Wrong user id or password.",
        )
    session = state.sessions.create(user.id, user.role.value)
    response = RedirectResponse(HOME_BY_ROLE.get(user.role.value, "/dashboard"), status_code=303)
    set_session_cookie(response, session, secure=state.secure_cookies)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, session: SignedIn) -> Response:
    """Sign out and forget the session."""
    state = web_state(request)
    state.sessions.end(session.token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, secure=state.secure_cookies)
    return response


# --- coordinator -----------------------------------------------------------------------------


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: SignedIn,
    municipality: Annotated[str, Query(max_length=40)] = "",
    risk: Annotated[str, Query(max_length=10)] = "",
    profession: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """All open cases with state, days since referral, projected feedback and risk."""
    ctx = web_state(request).context(session.user_id)
    waiting_on = parse_enum(Profession, "profession", profession) if profession else None
    rows = cases.list_cases(
        ctx,
        municipality_name=municipality or None,
        at_risk_only=risk == "at-risk",
        waiting_on=waiting_on,
    )
    return render(
        request,
        "dashboard.html",
        session,
        rows=rows,
        municipalities=[m.name for m in MUNICIPALITIES],
        municipality=municipality,
        risk=risk,
        professions=[p.value for p in Profession],
        profession=profession,
    )


@router.get("/cases/new", response_class=HTMLResponse)
def new_case_form(request: Request, session: SignedIn) -> HTMLResponse:
    """The form to open a case from a referral."""
    values = {"referral_date": web_state(request).today().isoformat(), "guardians": "2"}
    values["consenting"] = "0"
    return render(request, "case_new.html", session, **_form_context(values, None))


@router.post("/cases/new", response_class=HTMLResponse)
def open_case(
    request: Request,
    session: SignedIn,
    personnummer: Annotated[str, Form(max_length=20)] = "",
    child_name: Annotated[str, Form(max_length=120)] = "",
    municipality: Annotated[str, Form(max_length=40)] = "",
    referring_unit: Annotated[str, Form(max_length=120)] = "",
    referral_date: Annotated[str, Form(max_length=20)] = "",
    guardians: Annotated[str, Form(max_length=3)] = "2",
    consenting: Annotated[str, Form(max_length=3)] = "0",
    team_travels: Annotated[bool, Form()] = False,
) -> Response:
    """Open the case (the service validates, as in the CLI) or show field-level messages."""
    typed = {
        "child_name": child_name,
        "municipality": municipality,
        "referring_unit": referring_unit,
        "referral_date": referral_date,
        "guardians": guardians,
        "consenting": consenting,
    }
    try:
        referral = cases.Referral(
            personnummer=personnummer,
            child_name=child_name.strip(),
            municipality=municipality.strip(),
            referring_unit=referring_unit.strip(),
            referral_date=_date("referral_date", referral_date),
            guardians=_int("guardians", guardians),
            consenting=_int("consenting", consenting),
            team_travels=team_travels,
        )
        view = cases.open_case(web_state(request).context(session.user_id), referral)
    except (InvalidInput, NotFound) as error:
        return render(request, "case_new.html", session, 422, **_form_context(typed, error))
    return RedirectResponse(f"/cases/{view.id}", status_code=303)


def _date(field: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, value, "expected a date as YYYY-MM-DD") from None


def _int(field: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(field, value, "expected a whole number") from None


def _form_context(values: dict[str, str], error: EssenceError | None) -> dict[str, Any]:
    """Values to refill (never the personnummer) and the message under the right field."""
    errors: dict[str, str] = {}
    general = ""
    if isinstance(error, InvalidInput):
        field = FORM_FIELD.get(error.field, error.field)
        if field in REFERRAL_FIELDS:
            errors[field] = error.reason
        else:
            general = str(error)
    elif error is not None:
        general = from_error(error).detail
    return {
        "values": values,
        "errors": errors,
        "general_error": general,
        "municipalities": [m.name for m in MUNICIPALITIES],
    }


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, session: SignedIn, case_id: CaseId) -> HTMLResponse:
    """The case: its pathway steps and states, the timeline, visit days (the view is audited)."""
    state = web_state(request)
    view = cases.show_case(state.context(session.user_id), case_id)
    return render(request, "case.html", session, case=view, chart=timeline(view, state.today()))


@router.get("/cases/{case_id}/audit", response_class=HTMLResponse)
def case_audit(request: Request, session: SignedIn, case_id: CaseId) -> HTMLResponse:
    """The case's audit trail (a fragment the case page loads; coordinators only)."""
    lines = reporting.audit_extract(web_state(request).context(session.user_id), case_id)
    return render(request, "_audit.html", session, lines=lines)


@router.get("/report", response_class=HTMLResponse)
def report_page(request: Request, session: SignedIn) -> HTMLResponse:
    """Lead times against the 140-day baseline (planners see aggregates only)."""
    view = reporting.report(web_state(request).context(session.user_id))
    return render(request, "report.html", session, report=view)


# --- clinician -------------------------------------------------------------------------------


@router.get("/worklist", response_class=HTMLResponse)
def worklist_page(request: Request, session: SignedIn) -> HTMLResponse:
    """My ready, started and held steps for today and this week."""
    state = web_state(request)
    items = steps.worklist(state.context(session.user_id))
    return render(request, "worklist.html", session, groups=_grouped(items, state.today()))


@router.get("/worklist/items", response_class=HTMLResponse)
def worklist_items(request: Request, session: SignedIn) -> HTMLResponse:
    """The worklist table alone (htmx reloads it after each change)."""
    state = web_state(request)
    items = steps.worklist(state.context(session.user_id))
    return render(request, "_worklist_items.html", session, groups=_grouped(items, state.today()))


def _grouped(items: list[WorkItemView], today: date) -> list[tuple[str, list[WorkItemView]]]:
    """Today (booked today or started), this week, later or not booked yet."""
    week_end = today + timedelta(days=6 - today.weekday())
    groups: dict[str, list[WorkItemView]] = {"Today": [], "This week": [], "Later or unbooked": []}
    for item in items:
        if item.state == "in-progress" or item.planned_on == today:
            groups["Today"].append(item)
        elif item.planned_on is not None and today < item.planned_on <= week_end:
            groups["This week"].append(item)
        else:
            groups["Later or unbooked"].append(item)
    return list(groups.items())


@router.post("/worklist/{case_id}/{step_key}/{action}", response_class=HTMLResponse)
def change_step(
    request: Request,
    session: SignedIn,
    case_id: CaseId,
    step_key: StepKey,
    action: Annotated[str, Path(pattern="^(start|complete|hold|resume)$")],
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Start, complete (with an outcome note), hold (with a reason) or resume a step."""
    ctx = web_state(request).context(session.user_id)
    if action == "start":
        change = steps.start_step(ctx, case_id, step_key)
    elif action == "complete":
        change = steps.complete_step(ctx, case_id, step_key, note.strip())
    elif action == "hold":
        change = steps.hold_step(ctx, case_id, step_key, note.strip())
    else:
        change = steps.resume_step(ctx, case_id, step_key)
    if not request.headers.get("HX-Request"):
        return RedirectResponse("/worklist", status_code=303)
    response = render(request, "_change.html", session, change=change, action=action)
    response.headers["HX-Trigger"] = "worklist-changed"
    return response
