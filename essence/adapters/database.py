"""Engines for the embedded SQLite default and for PostgreSQL, with clear connection errors."""

from __future__ import annotations

import os
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError

from essence.domain.errors import DatabaseUnavailable, InfrastructureError, InvalidInput

IDLE_PING_S = 30.0  # a pooled connection idle longer than this is checked before use
# Connections kept open per process. A web worker serves up to 40 requests at once (its
# thread pool); SQLAlchemy's default of 5 made every request beyond the fifth open a new
# PostgreSQL connection and close it afterwards (a fork and a sign-in on the server each).
POOL_SIZE = 20
POOL_OVERFLOW = 20  # opened when more are needed, closed when returned


def describe_url(url: str) -> str:
    """The URL as it may be shown: driver, host, port and database, never the password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<unparseable URL>"
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///{parsed.database or ':memory:'}"
    return parsed.render_as_string(hide_password=True)


def create_database_engine(url: str, *, connect_timeout_s: int = 5) -> Engine:
    """Create an engine for `url` (SQLite file or PostgreSQL) with sensible settings.

    SQLite gets foreign keys on, WAL journaling and a busy timeout so parallel writers
    wait instead of failing at once; PostgreSQL gets a connect timeout.

    Raises:
        InvalidInput: the URL cannot be parsed or names an unsupported database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput("database url", describe_url(url), "cannot be parsed") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        connect_args: dict[str, Any] = {"connect_timeout": connect_timeout_s}
        engine = create_engine(
            url,
            connect_args=connect_args,
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
        )
        _ping_idle_connections(engine)
        return engine
    raise InvalidInput("database url", describe_url(url), "use sqlite:/// or postgresql+psycopg://")


def _ping_idle_connections(engine: Engine) -> None:
    """Before a pooled connection that lay idle over IDLE_PING_S seconds is used, check that the
    server still answers (a restart or a firewall may have dropped it overnight); a dead one
    is replaced without the caller noticing.

    A connection in steady use is not pinged: SQLAlchemy's `pool_pre_ping` pinged before
    every use, two round trips of every web request. If the server goes away between two
    uses, the statement fails, the pool drops its connections, and the use case retries
    (`run_use_case`, a lost connection is transient).
    """

    def note_return(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < IDLE_PING_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # whatever the driver raises for a dead socket
            raise DisconnectionError() from error
        if not alive:
            raise DisconnectionError()

    event.listen(engine, "checkin", note_return)
    event.listen(engine, "checkout", ping_if_idle)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def check_ready(engine: Engine) -> bool:
    """Connect once: raise InfrastructureError when unreachable; True when the schema exists."""
    return schema_revision(engine) is not None


def schema_revision(engine: Engine) -> str | None:
    """Connect once and read the schema revision (None: no essence schema yet).

    Raises:
        DatabaseUnavailable: the database cannot be reached (names the host, not the password).
    """
    from essence.adapters.schema_version import database_revision

    try:
        with engine.connect() as connection:
            return database_revision(connection)
    except OperationalError:
        where = describe_url(engine.url.render_as_string())
        if read_only_location(engine):
            raise InfrastructureError(
                f"database: {where} is on a read-only disk or directory; nothing was saved"
            ) from None
        raise DatabaseUnavailable(f"database: cannot connect to {where}") from None


def read_only_location(engine: Engine) -> bool:
    """True when the SQLite file's directory sits on a file system mounted read-only (the
    kernel refuses writes even to root, unlike file permissions)."""
    if engine.url.get_backend_name() != "sqlite" or not engine.url.database:
        return False
    directory = os.path.dirname(os.path.abspath(engine.url.database))
    try:
        return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        return False
