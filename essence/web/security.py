"""Web security: server-side sessions, CSRF tokens, security headers, login rate limits.

Sessions live in the server process (the cookie holds only a random token); each session
has its own CSRF token that every form and every unsafe API call must send back.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "essence_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SESSION_SECONDS = 8 * 3600
IDLE_SECONDS = 30 * 60
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# The interactive API docs load their scripts from a CDN; they get a looser policy.
DOCS_PATHS = frozenset({"/api/docs", "/api/redoc"})


@dataclass
class Session:
    """One signed-in browser or API client.

    Attributes:
        token: The random value in the cookie (never derived from the user).
        user_id: The login id the session acts as.
        role: The login's role at sign-in (for menus only; the services check access).
        csrf: The CSRF token forms and unsafe requests must send back.
        created: When it was created (monotonic seconds).
        seen: When it was last used (monotonic seconds).
    """

    token: str
    user_id: str
    role: str
    csrf: str
    created: float
    seen: float


@dataclass
class SessionStore:
    """Sessions in memory, thread-safe, ending after 8 hours or 30 idle minutes."""

    lifetime_s: float = SESSION_SECONDS
    idle_s: float = IDLE_SECONDS
    clock: Callable[[], float] = time.monotonic
    _sessions: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create(self, user_id: str, role: str) -> Session:
        """Start a session for `user_id` (a fresh token each sign-in, so no fixation)."""
        now = self.clock()
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        session = Session(token, user_id, role, csrf, now, now)
        with self._lock:
            self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        """The live session of a cookie token, or None (expired ones are forgotten)."""
        if not token:
            return None
        now = self.clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - session.created > self.lifetime_s or now - session.seen > self.idle_s:
                del self._sessions[token]
                return None
            session.seen = now
            return session

    def end(self, token: str | None) -> None:
        """Sign out: forget the session."""
        with self._lock:
            self._sessions.pop(token or "", None)


@dataclass
class LoginRateLimiter:
    """At most `attempts` sign-in attempts per client address and per login id per window.

    Attributes:
        attempts: Attempts allowed within the window (successful ones count too).
        window_s: The sliding window in seconds.
    """

    attempts: int = 5
    window_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, *keys: str) -> bool:
        """Record an attempt under each key; False when any key is over its limit."""
        now = self.clock()
        allowed = True
        with self._lock:
            for key in keys:
                times = self._seen.setdefault(key, deque())
                while times and now - times[0] > self.window_s:
                    times.popleft()
                if len(times) >= self.attempts:
                    allowed = False
                else:
                    times.append(now)
        return allowed


def csrf_valid(session: Session, sent: str | None) -> bool:
    """True when `sent` is the session's CSRF token (compared in constant time)."""
    return bool(sent) and hmac.compare_digest(session.csrf, sent or "")


def set_session_cookie(response: Response, session: Session, *, secure: bool) -> None:
    """Put the session token in an http-only, SameSite=Strict cookie (Secure unless testing)."""
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=SESSION_SECONDS,
        httponly=True,
        secure=secure,
        samesite="strict",
        path="/",
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=secure)


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Middleware: CSP, no-sniff, frame-deny and no caching on every response."""
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.url.path in DOCS_PATHS:
        response.headers["Content-Security-Policy"] = (
            "default-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: "
            "https://fastapi.tiangolo.com; script-src 'self' 'unsafe-inline' "
            "https://cdn.jsdelivr.net; frame-ancestors 'none'"
        )
    return response
