"""How a use case runs: as a user, in one transaction, audited, retried on conflicts.

Every service function takes a `ServiceContext` and hands its body to `run_use_case`,
which resolves the acting user, commits once, and records denied attempts in the audit
log in a transaction of their own (the refused change itself is never written).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from essence.domain.access import Role, User
from essence.domain.calendar import now_stockholm
from essence.domain.errors import (
    ConcurrencyConflict,
    DatabaseUnavailable,
    EssenceError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from essence.domain.messages import N_
from essence.services.backoff import DEFAULT_BACKOFF
from essence.services.ports import AuditEvent, UnitOfWork
from essence.services.tracing import current_request_id, logged_use_case

T = TypeVar("T")
CONFLICT_RETRIES = 5
CONNECTION_RETRIES = 2  # a database that stays away is reported, not waited for
SYSTEM_USER = User("system", Role.ADMIN)
#: The named login the Prefect flows (daily sweep, re-plan) act as; audited under this id.
FLOWS_USER = "system-flows"


def new_case_id() -> str:
    """An opaque, unguessable case id such as ``c-7f3a9e1b2c`` (never from personal data)."""
    return "c-" + secrets.token_hex(5)


@dataclass
class ServiceContext:
    """What every use case needs from the outside world.

    Attributes:
        uow_factory: Makes a fresh unit of work (one transaction).
        user_id: Who acts (``--as`` or ESSENCE_USER); None only for system tasks.
        clock: Returns the current aware datetime (a simulated clock in the demo).
        id_factory: Makes new case ids.
    """

    uow_factory: Callable[[], UnitOfWork]
    user_id: str | None = None
    clock: Callable[[], datetime] = now_stockholm
    id_factory: Callable[[], str] = new_case_id
    system: bool = False

    def as_user(self, user_id: str | None) -> ServiceContext:
        """The same context acting as another user."""
        return ServiceContext(self.uow_factory, user_id, self.clock, self.id_factory)

    def as_system(self) -> ServiceContext:
        """The same context acting as the system (sweeps, waiting steps, set-up)."""
        return ServiceContext(self.uow_factory, SYSTEM_USER.id, self.clock, self.id_factory, True)


def resolve_user(ctx: ServiceContext, uow: UnitOfWork) -> User:
    """The acting user, loaded from the database; the system acts as admin."""
    if ctx.system:
        return SYSTEM_USER
    if not ctx.user_id:
        raise InvalidInput("user", "", N_("not set; pass --as USER or set ESSENCE_USER"))
    try:
        return uow.users.get(ctx.user_id)
    except NotFound:
        raise InvalidInput("user", ctx.user_id, N_("unknown user")) from None


def run_use_case(
    ctx: ServiceContext,
    action: str,
    body: Callable[[UnitOfWork, User], T],
    *,
    case_id: str | None = None,
    retries: int = CONFLICT_RETRIES,
) -> T:
    """Run `body(uow, user)` in one transaction and commit it, logging one line about it.

    A transient error (someone changed the same case at the same moment, the database was
    busy or the connection dropped before the commit) reruns the whole body on fresh data
    after a jittered backoff, up to `retries` times (a lost connection up to
    CONNECTION_RETRIES times); a PermissionDenied is written to the
    audit log before it is raised; any other error fails at once and leaves the database
    untouched.
    """
    with logged_use_case(action, case_id) as run:
        for attempt in range(retries + 1):
            run.attempts = attempt + 1
            try:
                with ctx.uow_factory() as uow:
                    user = resolve_user(ctx, uow)
                    result = body(uow, user)
                    uow.commit()
                    return result
            except EssenceError as error:
                if isinstance(error, PermissionDenied):
                    _record_refusal(ctx, action, case_id, error)
                    raise
                if not error.transient:
                    raise
                run.fault = type(error).__name__
                lost = isinstance(error, DatabaseUnavailable)
                if attempt == retries or (lost and attempt >= CONNECTION_RETRIES):
                    if isinstance(error, ConcurrencyConflict):
                        raise ConcurrencyConflict(case_id or "?") from None
                    raise
                DEFAULT_BACKOFF.wait(attempt)
    raise AssertionError("unreachable")


def _record_refusal(
    ctx: ServiceContext, action: str, case_id: str | None, error: EssenceError
) -> None:
    with ctx.uow_factory() as uow:
        user = resolve_user(ctx, uow)
        uow.audit.record([audit_event(ctx, user, action, case_id, "denied", type(error).__name__)])
        uow.commit()


def audit_event(
    ctx: ServiceContext,
    user: User,
    action: str,
    case_id: str | None,
    outcome: str = "ok",
    detail: str = "",
) -> AuditEvent:
    """One audit line for `user` doing `action` on `case_id` now."""
    return AuditEvent(
        ctx.clock(),
        user.id,
        user.role.value,
        action,
        case_id,
        outcome,
        detail,
        current_request_id(),
    )


def audit_cases(
    ctx: ServiceContext,
    uow: UnitOfWork,
    user: User,
    action: str,
    case_ids: Iterable[str],
    detail: str = "",
) -> None:
    """Record that `user` read or changed each case in `case_ids`."""
    uow.audit.record(audit_event(ctx, user, action, cid, "ok", detail) for cid in case_ids)
