"""Web security: CSRF tokens, security headers, login rate limits, the session cookie.

Sessions live in the database (`essence.adapters.web_sessions`; the cookie holds only a
random token); each session has its own CSRF token that every form and every unsafe API
call must send back.
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.responses import Response

from essence.adapters.web_sessions import SESSION_SECONDS, Session

SESSION_COOKIE = "essence_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
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

    def retry_after(self, *keys: str) -> int:
        """Whole seconds until every key may try again (for the Retry-After header)."""
        now = self.clock()
        waits = [
            self.window_s - (now - times[0])
            for key in keys
            if len(times := self._seen.get(key, deque())) >= self.attempts
        ]
        return max(1, math.ceil(max(waits, default=1)))


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
