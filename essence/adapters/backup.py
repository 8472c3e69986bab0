"""Whole-database backups and restores: SQLite's online backup API, PostgreSQL's pg_dump.

A backup is written to a temporary name beside the target and renamed when complete, so a
failed backup leaves no half file. A restore goes only into an empty database and copies
everything as it was, the append-only audit log included (rows, ids and triggers).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL, make_url

from essence.adapters.database import describe_url
from essence.domain.errors import InfrastructureError, InvalidInput

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"


@dataclass(frozen=True)
class BackupResult:
    """What was written or read.

    Attributes:
        database: The database as it may be shown (no password).
        file: The backup file.
        format: ``sqlite`` or ``pg_dump``.
        size_bytes: Size of the backup file in bytes.
    """

    database: str
    file: str
    format: str
    size_bytes: int


def backup(engine: Engine, out: Path) -> BackupResult:
    """Write a consistent copy of the whole database to `out` (which must not exist yet).

    Raises:
        InvalidInput: `out` exists already or its directory does not.
        InfrastructureError: pg_dump is not installed or failed.
    """
    if out.exists():
        raise InvalidInput("out", str(out), "exists already; choose a new file name")
    if not out.parent.is_dir():
        raise InvalidInput("out", str(out), "its directory does not exist")
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    url = engine.url
    try:
        if url.get_backend_name() == "sqlite":
            fmt = "sqlite"
            _sqlite_copy(_sqlite_path(url), partial, source_read_only=True)
        else:
            fmt = "pg_dump"
            _run_pg("pg_dump", url, ["--format=custom", "--no-owner", f"--file={partial}"])
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(describe_url(str(url)), str(out), fmt, out.stat().st_size)


def restore(engine: Engine, source: Path) -> BackupResult:
    """Restore the backup `source` into the empty database behind `engine`.

    Raises:
        InvalidInput: the file is missing or not an essence backup for this kind of database,
            or the target database is not empty.
        InfrastructureError: pg_restore is not installed or failed.
    """
    if not source.is_file():
        raise InvalidInput("backup file", str(source), "not found")
    with source.open("rb") as handle:
        magic = handle.read(len(SQLITE_MAGIC))
    url = engine.url
    backend = url.get_backend_name()
    where = describe_url(str(url))
    if backend == "sqlite" and not magic.startswith(SQLITE_MAGIC):
        raise InvalidInput("backup file", str(source), "is not a SQLite backup")
    if backend == "postgresql" and not magic.startswith(PG_CUSTOM_MAGIC):
        raise InvalidInput("backup file", str(source), "is not a pg_dump (custom format) backup")
    tables = _tables(engine)
    if tables:
        raise InvalidInput(
            "database", where, f"is not empty ({len(tables)} tables); restore into a new one"
        )
    engine.dispose()  # no pooled connection may hold the file while it is replaced
    if backend == "sqlite":
        _sqlite_copy(source, _sqlite_path(url), source_read_only=True)
        fmt = "sqlite"
    else:
        _run_pg(
            "pg_restore",
            url,
            ["--no-owner", "--exit-on-error", "--single-transaction", str(source)],
        )
        fmt = "pg_dump"
    return BackupResult(where, str(source), fmt, source.stat().st_size)


def _tables(engine: Engine) -> list[str]:
    from sqlalchemy.exc import OperationalError

    try:
        with engine.connect() as connection:
            return inspect(connection).get_table_names()
    except OperationalError:
        where = describe_url(str(engine.url))
        raise InfrastructureError(f"database: cannot connect to {where}") from None


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise InvalidInput("database url", describe_url(str(url)), "needs a SQLite file")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path, *, source_read_only: bool) -> None:
    """Copy page by page with the online backup API (consistent while others write)."""
    mode = "?mode=ro" if source_read_only else ""
    src = sqlite3.connect(f"file:{source}{mode}", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _run_pg(tool: str, url: URL, arguments: list[str]) -> None:
    """Run pg_dump/pg_restore on the database of `url`; the password travels in the
    environment (PGPASSWORD), never on the command line."""
    executable = shutil.which(tool)
    if executable is None:
        raise InfrastructureError(
            f"{tool}: not installed; install the PostgreSQL client tools of the server's major "
            "version (Debian: apt install postgresql-client)"
        )
    parsed = make_url(str(url)) if not isinstance(url, URL) else url
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", parsed.port),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
        ("PGDATABASE", parsed.database),
    ):
        if value is not None:
            env[key] = str(value)
    target = ["--dbname", parsed.database or ""] if tool == "pg_restore" else []
    completed = subprocess.run(
        [executable, *target, *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["failed"])[-1]
        raise InfrastructureError(f"{tool}: {describe_url(str(url))}: {last}")
