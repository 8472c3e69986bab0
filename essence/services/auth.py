"""Passwords and sign-in: argon2 hashes only, every attempt in the audit log.

Passwords are never stored, logged or echoed; the demo passwords are made with `secrets`
and returned once so the CLI can print them to the person who ran `essence init --demo`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from essence.domain.access import Role, User, require_role
from essence.domain.errors import InvalidInput, NotFound, PermissionDenied
from essence.domain.messages import N_
from essence.services.context import FLOWS_USER, ServiceContext, audit_event, run_use_case
from essence.services.ports import AuditEvent, UnitOfWork

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
_HASHER = PasswordHasher()
# Verified against when the login does not exist, so both paths take the same time.
_DUMMY_HASH = _HASHER.hash("not-a-real-password-" + secrets.token_hex(8))


def hash_password(password: str) -> str:
    """The argon2id hash of `password` after checking its length.

    Raises:
        InvalidInput: shorter than 10 or longer than 200 characters (the value is not shown).
    """
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            "password",
            "",
            N_(
                "must be %(least)s to %(most)s characters long",
                least=MIN_PASSWORD_LENGTH,
                most=MAX_PASSWORD_LENGTH,
            ),
        )
    return _HASHER.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def set_password(ctx: ServiceContext, user_id: str, password: str) -> None:
    """Give a login a new password (admins for anyone, every user for themselves).

    Raises:
        InvalidInput: the password is too short or too long.
        NotFound: no such login.
        PermissionDenied: someone else's password, and the acting user is not an admin.
    """
    password_hash = hash_password(password)

    def body(uow: UnitOfWork, user: User) -> None:
        if user.id != user_id:
            require_role(user, f"set the password of {user_id}")
        uow.users.set_password_hash(user_id, password_hash)
        uow.audit.record([audit_event(ctx, user, "auth.password", None, "ok", user_id)])

    run_use_case(ctx, "auth.password", body)


def authenticate(ctx: ServiceContext, user_id: str, password: str) -> User:
    """Check a login's password and return the user; every attempt is audited.

    Raises:
        PermissionDenied: unknown login, no password set, or the wrong password (one message
            for all three, so the answer does not tell which logins exist).
    """

    def body(uow: UnitOfWork, _system: User) -> User | None:
        try:
            user: User | None = uow.users.get(user_id)
            stored = uow.users.password_hash(user_id)
        except (NotFound, InvalidInput):
            user, stored = None, None
        accepted = _verify(stored, password) and user is not None
        if accepted and stored is not None and _HASHER.check_needs_rehash(stored):
            uow.users.set_password_hash(user_id, _HASHER.hash(password))
        uow.audit.record(
            [
                AuditEvent(
                    ctx.clock(),
                    user.id if user else "unknown",
                    user.role.value if user else "",
                    "auth.login",
                    None,
                    "ok" if accepted else "denied",
                )
            ]
        )
        return user if accepted else None

    user = run_use_case(ctx.as_system(), "auth.login", body)
    if user is None:
        raise PermissionDenied("anonymous", "sign in", N_("wrong user id or password"))
    return user


def current_user(ctx: ServiceContext) -> User:
    """The acting user of `ctx` as stored (role and staff link), for a signed-in session.

    Raises:
        InvalidInput: the user no longer exists.
    """
    return run_use_case(ctx, "auth.whoami", lambda _uow, user: user)


def issue_demo_passwords(ctx: ServiceContext, only: Iterable[str] | None = None) -> dict[str, str]:
    """Give logins without a password a fresh random one, and return them (once).

    Existing passwords are never reset or shown (`essence user password` changes one); the
    flows' system login never gets one (it cannot sign in).

    Args:
        only: Consider only these login ids (e.g. the ones `essence init` just created);
            None: every login without a password.

    Returns:
        Login id → password, for the CLI to print once; only the hashes are stored.
    """
    wanted = None if only is None else set(only)

    def body(uow: UnitOfWork, user: User) -> dict[str, str]:
        issued: dict[str, str] = {}
        for login in uow.users.list():
            if login.id == FLOWS_USER or (wanted is not None and login.id not in wanted):
                continue
            if uow.users.password_hash(login.id) is None:
                password = secrets.token_urlsafe(12)
                uow.users.set_password_hash(login.id, hash_password(password))
                issued[login.id] = password
        uow.audit.record(
            [audit_event(ctx, user, "auth.password", None, "ok", login) for login in issued]
        )
        return issued

    return run_use_case(ctx.as_system(), "auth.demo-passwords", body)


def authorise(ctx: ServiceContext, action: str, *roles: Role) -> User:
    """Check that the acting user has one of `roles` (admins always pass); refusals are audited.

    For use cases that touch no stored data (capacity scenarios) but are still role-bound.

    Raises:
        PermissionDenied: the user's role is not among `roles`.
    """

    def body(_uow: UnitOfWork, user: User) -> User:
        require_role(user, action, *roles)
        return user

    return run_use_case(ctx, action, body)
