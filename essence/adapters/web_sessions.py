"""Web sessions and language choices in the database, so they survive restarts and workers.

The cookie holds a random token; only its SHA-256 is stored, so a copy of the database
cannot be used to sign in. Sessions end after 8 hours, or 30 minutes without use.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, bindparam, delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session as DbSession

from models.web import WebPreferenceRecord, WebSessionRecord

_TABLE = WebSessionRecord.__table__  # type: ignore[attr-defined]
_BY_DIGEST = _TABLE.c.token_hash == bindparam("digest")
_SESSION_ROW = select(
    _TABLE.c.user_id, _TABLE.c.role, _TABLE.c.csrf, _TABLE.c.created_at, _TABLE.c.seen_at
).where(_BY_DIGEST)
_TOUCH_SESSION = update(_TABLE).where(_BY_DIGEST).values(seen_at=bindparam("now"))
_END_SESSION = delete(_TABLE).where(_BY_DIGEST)

SESSION_SECONDS = 8 * 3600
IDLE_SECONDS = 30 * 60
TOUCH_EVERY_S = 60


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Session:
    """One signed-in browser or API client.

    Attributes:
        token: The random value in the cookie (never derived from the user).
        user_id: The login id the session acts as.
        role: The login's role at sign-in (for menus only; the services check access).
        csrf: The CSRF token forms and unsafe requests must send back.
        created: When it was created (UTC).
        seen: When it was last used (UTC, updated at most once a minute).
    """

    token: str
    user_id: str
    role: str
    csrf: str
    created: datetime
    seen: datetime


@dataclass
class SqlSessionStore:
    """Sessions in the `web_session` table, shared by every worker process.

    Attributes:
        engine: The essence database.
        lifetime_s: Longest life of a session, in seconds.
        idle_s: Longest pause between two requests of a session, in seconds.
        clock: The current UTC time (tests move it).
    """

    engine: Engine
    lifetime_s: float = SESSION_SECONDS
    idle_s: float = IDLE_SECONDS
    clock: Callable[[], datetime] = _utc_now

    def create(self, user_id: str, role: str) -> Session:
        """Start a session for `user_id` (a fresh token each sign-in, so no fixation)."""
        now = self.clock()
        session = Session(
            secrets.token_urlsafe(32), user_id, role, secrets.token_urlsafe(32), now, now
        )
        with DbSession(self.engine) as db:
            db.add(
                WebSessionRecord(
                    token_hash=_digest(session.token),
                    user_id=user_id,
                    role=role,
                    csrf=session.csrf,
                    created_at=now,
                    seen_at=now,
                )
            )
            db.commit()
        return session

    def get(self, token: str | None) -> Session | None:
        """The live session of a cookie token, or None (expired ones are deleted).

        A connection the database dropped since its last use (a restart) is replaced and the
        lookup runs once more, as the use cases retry theirs.
        """
        if not token or len(token) > 100:
            return None
        try:
            return self._lookup(token)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            return self._lookup(token)

    def _lookup(self, token: str) -> Session | None:
        now = self.clock()
        key = {"digest": _digest(token)}
        # Runs on every request: plain rows from statements built once, in autocommit (no
        # BEGIN and ROLLBACK around the one SELECT; a touch or an expiry commits on its own).
        autocommit = {"isolation_level": "AUTOCOMMIT"}
        with self.engine.connect().execution_options(**autocommit) as connection:
            row = connection.execute(_SESSION_ROW, key).first()
            if row is None:
                return None
            too_old = now - row.created_at > timedelta(seconds=self.lifetime_s)
            if too_old or now - row.seen_at > timedelta(seconds=self.idle_s):
                connection.execute(_END_SESSION, key)
                return None
            seen = row.seen_at
            if now - seen > timedelta(seconds=TOUCH_EVERY_S):
                seen = now
                connection.execute(_TOUCH_SESSION, {**key, "now": now})
            return Session(token, row.user_id, row.role, row.csrf, row.created_at, seen)

    def end(self, token: str | None) -> None:
        """Sign out: delete the session (nothing happens for an unknown token)."""
        if not token:
            return
        with self.engine.begin() as connection:
            connection.execute(_END_SESSION, {"digest": _digest(token)})

    def sweep(self) -> int:
        """Delete every expired session; returns how many."""
        now = self.clock()
        with DbSession(self.engine) as db:
            result = db.exec(  # type: ignore[call-overload]
                delete(WebSessionRecord).where(
                    (WebSessionRecord.created_at < now - timedelta(seconds=self.lifetime_s))  # type: ignore[operator]
                    | (WebSessionRecord.seen_at < now - timedelta(seconds=self.idle_s))  # type: ignore[operator]
                )
            )
            db.commit()
            return int(result.rowcount or 0)

    def language(self, user_id: str) -> str | None:
        """The language `user_id` chose, if any."""
        with DbSession(self.engine) as db:
            row = db.get(WebPreferenceRecord, user_id)
            return row.language if row else None

    def set_language(self, user_id: str, language: str) -> None:
        """Remember `language` ('sv' or 'en') for `user_id`."""
        with DbSession(self.engine) as db:
            row = db.get(WebPreferenceRecord, user_id) or WebPreferenceRecord(
                user_id=user_id, language=language
            )
            row.language = language
            db.add(row)
            db.commit()
