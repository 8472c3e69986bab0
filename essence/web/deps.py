"""What every route shares: the app's state, the signed-in session and its service context.

Routes get a `ServiceContext` acting as the session's user; the services decide what that
user may see or change, so no access rule is repeated here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from fastapi import HTTPException, Request, Response

from essence.adapters.web_runs import SqlRunStore
from essence.adapters.web_sessions import Session, SqlSessionStore
from essence.domain.calendar import local_date, now_stockholm
from essence.services import team
from essence.services.context import ServiceContext
from essence.web.security import (
    CSRF_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    LoginRateLimiter,
    csrf_valid,
)

NAMES_TTL_S = 60


@dataclass
class WebState:
    """Everything the web app holds between requests.

    Attributes:
        database_url: The database (None: ESSENCE_DATABASE_URL or the embedded default).
        clock: The current time (a fixed clock in tests).
        secure_cookies: Mark the session cookie Secure (off only for plain-http tests).
        api_docs: Serve the interactive API docs (off unless enabled).
        login_limit_user: Sign-in attempts per login id and minute.
        login_limit_client: Sign-in attempts per client address and minute.
    """

    database_url: str | None = None
    clock: Callable[[], datetime] = now_stockholm
    secure_cookies: bool = True
    api_docs: bool = False
    login_limit_user: LoginRateLimiter = field(default_factory=lambda: LoginRateLimiter(5, 60))
    login_limit_client: LoginRateLimiter = field(default_factory=lambda: LoginRateLimiter(30, 60))
    _base: ServiceContext | None = None
    _sessions: SqlSessionStore | None = None
    _runs: SqlRunStore | None = None
    _names: tuple[float, dict[str, str]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def sessions(self) -> SqlSessionStore:
        """The sessions in the database (shared by all workers; they survive restarts)."""
        if self._sessions is None:
            from essence import bootstrap

            self.context(None)
            with self._lock:
                if self._sessions is None:
                    self._sessions = bootstrap.web_session_store(self.database_url)
        return self._sessions

    def context(self, user_id: str | None) -> ServiceContext:
        """A service context acting as `user_id` (the database is checked once, then reused).

        Raises:
            InfrastructureError: the database cannot be reached or has no schema.
        """
        with self._lock:
            if self._base is None:
                from essence import bootstrap

                self._base = bootstrap.context(database_url=self.database_url, clock=self.clock)
        return self._base.as_user(user_id)

    @property
    def runs(self) -> SqlRunStore:
        """Background runs in the database (any worker can show any run)."""
        if self._runs is None:
            from essence import bootstrap

            self.context(None)
            self._runs = bootstrap.web_run_store(self.database_url)
        return self._runs

    def warm_up(self) -> None:
        """Open the database, its session and run stores before the first request, so the
        first people to sign in after a restart do not wait for connections and schema
        checks. A database that cannot be reached is left to /healthz to report."""
        from sqlmodel.main import default_registry

        from essence.domain.errors import EssenceError

        default_registry.configure()  # essence's own tables only, not other libraries'
        try:
            self.sessions  # noqa: B018 - opens the database, checks its schema, makes the store
            self.runs  # noqa: B018
        except EssenceError as error:
            logging.getLogger(__name__).warning("warm-up skipped: %s", type(error).__name__)

    def team_names(self, user_id: str) -> dict[str, str]:
        """Clinician id → name, for showing people by name (refreshed every minute)."""
        now = time.monotonic()
        cached = self._names
        if cached is None or now - cached[0] > NAMES_TTL_S:
            views = team.list_clinicians(self.context(user_id))
            cached = (now, {v.id: v.name for v in views})
            self._names = cached
        return cached[1]

    def today(self) -> date:
        """Today in Stockholm by the app's clock."""
        return local_date(self.clock())


def web_state(request: Request) -> WebState:
    """The app's state."""
    return request.app.state.web


def current_session(request: Request) -> Session | None:
    """The live session of the request's cookie, if any."""
    return web_state(request).sessions.get(request.cookies.get(SESSION_COOKIE))


def api_context(request: Request) -> ServiceContext:
    """Dependency for the JSON API: the signed-in user's context; CSRF header on changes.

    Raises:
        HTTPException: 401 without a live session, 403 without the CSRF header on a change.
    """
    session = current_session(request)
    if session is None:
        raise HTTPException(401, "sign in first: POST /api/v1/session")
    if request.method not in SAFE_METHODS and not csrf_valid(
        session, request.headers.get(CSRF_HEADER)
    ):
        raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header")
    return web_state(request).context(session.user_id)


def client_address(request: Request) -> str:
    """The client's address for rate limiting (the socket peer; no proxy headers trusted)."""
    return request.client.host if request.client else "unknown"


def remember_language(response: Response, state: WebState, user_id: str) -> None:
    """At sign-in: put the login's chosen language (if any) in the language cookie."""
    from essence.web.i18n import LANGUAGE_COOKIE

    chosen = state.sessions.language(user_id)
    if chosen is not None:
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=365 * 86400,
            httponly=True,
            secure=state.secure_cookies,
            samesite="lax",
        )
