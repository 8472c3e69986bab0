"""Server-rendered pages: sign-in, language, the coordinator's dashboard and search, the report.

Each route parses its input, calls one service as the signed-in user and renders a Jinja2
template in the user's language. The case page, the open-case form and the worklist have
modules of their own; they share `page_session` and `render` from here.
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from essence.adapters.web_sessions import Session
from essence.domain.errors import PermissionDenied
from essence.domain.geography import MUNICIPALITIES
from essence.domain.professions import Profession, parse_enum
from essence.services import auth, cases, overview, reporting
from essence.web import i18n
from essence.web.deps import client_address, current_session, remember_language, web_state
from essence.web.problems import Problem
from essence.web.render import error_page as _error_page
from essence.web.render import render
from essence.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    clear_session_cookie,
    csrf_valid,
    set_session_cookie,
)

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "essence_login_csrf"
HOME_BY_ROLE = {"clinician": "/worklist", "planner": "/planner", "admin": "/dashboard"}


class SignInNeeded(Exception):
    """No live session: pages redirect to the sign-in page, htmx gets HX-Redirect."""

    def __init__(self, back_to: str) -> None:
        super().__init__("sign in first")
        self.back_to = back_to


def safe_next(value: str | None) -> str:
    """A local path to return to after sign-in ('' for anything that could leave the site)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return ""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or len(value) > 300:
        return ""
    return value


def login_url(back_to: str) -> str:
    """The sign-in page, returning to `back_to` (a local path) afterwards."""
    target = safe_next(back_to)
    return "/login" + (f"?next={quote(target, safe='/')}" if target and target != "/" else "")


def asked_for(request: Request) -> str:
    """The page the user was on: htmx's current URL (path only) or the request's path."""
    current = request.headers.get("HX-Current-URL")
    if current:
        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    if request.method != "GET":
        return "/"
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def page_session(request: Request) -> Session:
    """Dependency for pages: the signed-in session; changes need the session's CSRF token.

    Raises:
        SignInNeeded: no live session (the handler redirects to the sign-in page).
        HTTPException: 403 for a missing or wrong CSRF token.
    """
    # The lookup is a database round trip: in a worker thread, not on the event loop.
    session = await run_in_threadpool(current_session, request)
    if session is None:
        raise SignInNeeded(asked_for(request))
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if not sent:
            sent = str((await request.form()).get(CSRF_FIELD) or "")
        if not csrf_valid(session, sent):
            raise HTTPException(
                403, i18n.gettext("The form has expired or did not come from essence; reload.")
            )
    return session


SignedIn = Annotated[Session, Depends(page_session)]


def error_page(request: Request, item: Problem) -> HTMLResponse:
    """An error as a page (or as a fragment in the error style for htmx requests)."""
    return _error_page(request, item, current_session(request))


# --- signing in ------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """Send each role to its page."""
    session = current_session(request)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(HOME_BY_ROLE.get(session.role, "/dashboard"), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: Annotated[str, Query(max_length=300)] = "") -> HTMLResponse:
    """The sign-in form (its CSRF token is a double-submit cookie until there is a session)."""
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", None, login_csrf=token, error="", next=safe_next(next))
    state = web_state(request)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, secure=state.secure_cookies, samesite="strict"
    )
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    user_id: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the password (rate-limited), end this browser's old session, start a new one."""
    state = web_state(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token[:100]):
        raise HTTPException(403, i18n.gettext("The sign-in form has expired; reload the page."))
    back = safe_next(next)

    def again(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        response = render(
            request, "login.html", None, status, login_csrf=expected, error=message, next=back
        )
        response.headers.update(headers or {})
        return response

    keys = (client_address(request),), (user_id[:40],)
    if not (state.login_limit_client.allow(*keys[0]) and state.login_limit_user.allow(*keys[1])):
        wait = max(
            state.login_limit_client.retry_after(*keys[0]),
            state.login_limit_user.retry_after(*keys[1]),
        )
        message = i18n.gettext("Too many attempts. Wait %(seconds)s seconds and try again.")
        return again(429, message % {"seconds": wait}, {"Retry-After": str(wait)})
    if not user_id or not password or len(user_id) > 40 or len(password) > 200:
        return again(401, i18n.gettext("Wrong user id or password."))
    try:
        user = auth.authenticate(state.context(None), user_id, password)
    except PermissionDenied:
        return again(401, i18n.gettext("Wrong user id or password."))
    state.sessions.end(request.cookies.get(SESSION_COOKIE))
    session = state.sessions.create(user.id, user.role.value)
    home_page = HOME_BY_ROLE.get(user.role.value, "/dashboard")
    response = RedirectResponse(back or home_page, status_code=303)
    set_session_cookie(response, session, secure=state.secure_cookies)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    remember_language(response, state, user.id)
    return response


@router.post("/logout")
def logout(request: Request, session: SignedIn) -> Response:
    """Sign out and forget the session."""
    state = web_state(request)
    state.sessions.end(session.token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, secure=state.secure_cookies)
    return response


@router.post("/language")
def choose_language(
    request: Request,
    language: Annotated[str, Form(max_length=5)] = "sv",
    back: Annotated[str, Form(max_length=300)] = "/",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Switch between Swedish and English (remembered per login, and in a cookie)."""
    state = web_state(request)
    chosen = language if language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    session = current_session(request)
    if session is not None:
        if not csrf_valid(session, csrf_token):
            raise HTTPException(403, i18n.gettext("The form has expired; reload the page."))
        state.sessions.set_language(session.user_id, chosen)
    response = RedirectResponse(safe_next(back) or "/", status_code=303)
    response.set_cookie(
        i18n.LANGUAGE_COOKIE,
        chosen,
        max_age=365 * 86400,
        httponly=True,
        secure=state.secure_cookies,
        samesite="lax",
    )
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
    """Counts to act on, then all open cases with state, progress, projection and risk."""
    ctx = web_state(request).context(session.user_id)
    waiting_on = parse_enum(Profession, "profession", profession) if profession else None
    rows = cases.list_cases(
        ctx,
        municipality_name=municipality or None,
        at_risk_only=risk == "at-risk",
        waiting_on=waiting_on,
    )
    counts = overview.dashboard_counts(ctx)
    return render(
        request,
        "dashboard.html",
        session,
        rows=rows,
        counts=counts,
        municipalities=[m.name for m in MUNICIPALITIES],
        municipality=municipality,
        risk=risk,
        professions=[p.value for p in Profession],
        profession=profession,
        query="",
    )


@router.get("/search", response_class=HTMLResponse)
def search_form(request: Request, session: SignedIn) -> HTMLResponse:
    """The search form on its own page."""
    return render(request, "search.html", session, rows=[], query="")


@router.post("/search", response_class=HTMLResponse)
def search(request: Request, session: SignedIn, q: Annotated[str, Form()] = "") -> HTMLResponse:
    """Find a case by the child's name, personnummer (any common format) or case-id prefix.

    A POST, so a personnummer never lands in a URL, a server log or the browser's history.
    """
    query = q.strip()[:100]
    ctx = web_state(request).context(session.user_id)
    found = overview.search_cases(ctx, query) if query else []
    name = "_search_results.html" if request.headers.get("HX-Request") else "search.html"
    return render(request, name, session, rows=found, query=query)


@router.get("/report", response_class=HTMLResponse)
def report_page(request: Request, session: SignedIn) -> HTMLResponse:
    """Lead times against the 140-day baseline (planners see aggregates only)."""
    view = reporting.report(web_state(request).context(session.user_id))
    return render(request, "report.html", session, report=view)
