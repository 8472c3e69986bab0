"""Request ids and the one log line per use case: action, case id, outcome, duration.

A web request or a CLI command sets a request id; every log line and every audit row written
while it runs carries it, so an incident can be followed from the proxy's log to the audit
log. Log lines hold ids and outcomes only, never a personnummer, a name or a message text.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from essence.domain.errors import EssenceError

_REQUEST_ID: ContextVar[str | None] = ContextVar("essence_request_id", default=None)
log = logging.getLogger("essence.usecase")


def new_request_id() -> str:
    """A random 16-hex-digit id (no personal data, no clock)."""
    return secrets.token_hex(8)


def current_request_id() -> str | None:
    """The id of the request or command being served, if any."""
    return _REQUEST_ID.get()


@contextmanager
def request_scope(request_id: str | None = None) -> Iterator[str]:
    """Run the block under `request_id` (a new one when None or unusable)."""
    rid = request_id if request_id and _usable(request_id) else new_request_id()
    token = _REQUEST_ID.set(rid)
    try:
        yield rid
    finally:
        _REQUEST_ID.reset(token)


def set_request_id(request_id: str | None = None) -> str:
    """Set the request id for the rest of this context (a CLI command is one request)."""
    rid = request_id if request_id and _usable(request_id) else new_request_id()
    _REQUEST_ID.set(rid)
    return rid


def clear_request_id() -> None:
    """Forget the command's request id (a server started from the CLI gives one per request)."""
    _REQUEST_ID.set(None)


def _usable(value: str) -> bool:
    """A request id from outside (a proxy's X-Request-ID) must be short and plain."""
    return 0 < len(value) <= 32 and all(c.isalnum() or c in "-_." for c in value)


@dataclass
class UseCaseRun:
    """What the log line of one use case reports (filled in while it runs)."""

    action: str
    case_id: str | None
    outcome: str = "ok"
    attempts: int = 1
    fault: str = ""


@contextmanager
def logged_use_case(action: str, case_id: str | None) -> Iterator[UseCaseRun]:
    """Log one line when the use case ends: action, case id, outcome, attempts, duration.

    The line is INFO, ERROR only for an unexpected exception. The outcome is ``ok`` or the
    name of the error class (``InvalidInput``,
    ``PermissionDenied``, ``DatabaseUnavailable`` …); the error's message is not logged,
    because a message about bad input may quote what was typed.
    """
    run = UseCaseRun(action, case_id)
    started = time.perf_counter()
    scope = request_scope(current_request_id())
    with scope:
        try:
            yield run
        except EssenceError as error:
            run.outcome = type(error).__name__
            raise
        except Exception as error:
            run.outcome = "error:" + type(error).__name__
            raise
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            # Refusals and bad input are ordinary outcomes (the user is told); only the
            # unexpected is an error. The CLI shows WARNING and up, so its one line stays one.
            level = logging.ERROR if run.outcome.startswith("error:") else logging.INFO
            log.log(
                level,
                "use case %s %s in %.1f ms",
                action,
                run.outcome,
                duration_ms,
                extra={
                    "action": action,
                    "case_id": case_id,
                    "outcome": run.outcome,
                    "attempts": run.attempts,
                    "fault": run.fault,
                    "duration_ms": duration_ms,
                },
            )
