"""Database errors classified by driver class and SQLSTATE, never by the words of a message.

PostgreSQL (psycopg) reports a five-character SQLSTATE; SQLite reports a numeric result code.
Both are mapped to one small vocabulary, so the retry policy of the services and of the
Prefect tasks is decided in one place.
"""

from __future__ import annotations

import sqlite3
from enum import Enum

from sqlalchemy.exc import DBAPIError

# https://www.postgresql.org/docs/current/errcodes-appendix.html
_SERIALIZATION_FAILURE = "40001"
_DEADLOCK_DETECTED = "40P01"
_LOCK_NOT_AVAILABLE = "55P03"
_CONNECTION_EXCEPTION_CLASS = "08"  # 08000, 08003, 08006, 08001, 08004, 08P01 …
_SERVER_GOING_AWAY = {"57P01", "57P02", "57P03"}  # admin/crash shutdown, cannot connect now
_READ_ONLY_TRANSACTION = "25006"
# https://www.sqlite.org/rescode.html (primary codes are the low byte of extended ones)
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14


class Fault(Enum):
    """What went wrong, as far as retrying is concerned."""

    SERIALIZATION = "serialization failure"
    DEADLOCK = "deadlock"
    LOCK_NOT_AVAILABLE = "lock not available"
    BUSY = "database busy"
    CONNECTION = "connection lost"
    READ_ONLY = "read-only"
    STORAGE = "storage failure"

    @property
    def transient(self) -> bool:
        """True for faults that go away when the same transaction runs again."""
        return self in _TRANSIENT

    @property
    def conflict(self) -> bool:
        """True for faults caused by another writer (retried on fresh data)."""
        return self in _CONFLICTS


_CONFLICTS = {Fault.SERIALIZATION, Fault.DEADLOCK, Fault.LOCK_NOT_AVAILABLE, Fault.BUSY}
_TRANSIENT = _CONFLICTS | {Fault.CONNECTION}


def classify(error: BaseException) -> Fault | None:
    """The fault behind a database error, or None when it is not a known infrastructure fault.

    Args:
        error: A SQLAlchemy `DBAPIError` (its `orig` is inspected) or a raw driver error.
    """
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return Fault.CONNECTION
        error = error.orig if error.orig is not None else error
    if isinstance(error, sqlite3.Error):
        return _classify_sqlite(error)
    return _classify_psycopg(error)


def _classify_sqlite(error: sqlite3.Error) -> Fault | None:
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return None
    return {
        _SQLITE_BUSY: Fault.BUSY,
        _SQLITE_LOCKED: Fault.BUSY,
        _SQLITE_READONLY: Fault.READ_ONLY,
        _SQLITE_IOERR: Fault.STORAGE,
        _SQLITE_FULL: Fault.STORAGE,
        _SQLITE_CANTOPEN: Fault.STORAGE,
    }.get(code & 0xFF)


def _classify_psycopg(error: BaseException) -> Fault | None:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return None
    if not isinstance(error, psycopg.Error):
        return None
    sqlstate = error.sqlstate
    if sqlstate == _SERIALIZATION_FAILURE:
        return Fault.SERIALIZATION
    if sqlstate == _DEADLOCK_DETECTED:
        return Fault.DEADLOCK
    if sqlstate == _LOCK_NOT_AVAILABLE:
        return Fault.LOCK_NOT_AVAILABLE
    if sqlstate == _READ_ONLY_TRANSACTION:
        return Fault.READ_ONLY
    if sqlstate is not None and (
        sqlstate.startswith(_CONNECTION_EXCEPTION_CLASS) or sqlstate in _SERVER_GOING_AWAY
    ):
        return Fault.CONNECTION
    # psycopg raises OperationalError without a SQLSTATE when the socket itself failed
    # (server closed the connection, timeout, refused): that is a lost connection.
    if sqlstate is None and isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        return Fault.CONNECTION
    return None
