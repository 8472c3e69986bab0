"""Wiring: settings → engine → unit of work → service context. The only place that knows all."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from essence.adapters.database import (
    check_ready,
    create_database_engine,
    describe_url,
    schema_revision,
)
from essence.adapters.schema_version import code_head, schema_problem
from essence.adapters.unit_of_work import SqlUnitOfWork
from essence.config import Settings
from essence.domain.calendar import now_stockholm
from essence.domain.errors import SchemaMismatch
from essence.services.context import ServiceContext, new_case_id

if TYPE_CHECKING:
    from essence.adapters.web_runs import SqlRunStore
    from essence.adapters.web_sessions import SqlSessionStore

_ENGINES: dict[str, Engine] = {}


def engine_for(url: str, settings: Settings | None = None) -> Engine:
    """One engine per URL per process (connection pools are reused)."""
    if url not in _ENGINES:
        timeout = (settings or Settings()).connect_timeout_s
        _ENGINES[url] = create_database_engine(url, connect_timeout_s=timeout)
    return _ENGINES[url]


def context(
    *,
    user_id: str | None = None,
    database_url: str | None = None,
    clock: Callable[[], datetime] = now_stockholm,
    id_factory: Callable[[], str] = new_case_id,
    require_schema: bool = True,
) -> ServiceContext:
    """A service context on the configured database, acting as `user_id` (or ESSENCE_USER).

    Raises:
        InfrastructureError: the database cannot be reached, has no schema yet, or its schema
            is behind or ahead of this code (`SchemaMismatch`, naming the command that fixes it).
    """
    settings = Settings()
    url = database_url or settings.database_url
    engine = engine_for(url, settings)
    if require_schema:
        problem = schema_problem(schema_revision(engine))
        if problem is not None:
            raise SchemaMismatch(f"database: {describe_url(url)} {problem}")
    return ServiceContext(
        uow_factory=lambda: SqlUnitOfWork(engine),
        user_id=user_id or settings.user,
        clock=clock,
        id_factory=id_factory,
    )


def initialise(
    *, database_url: str | None = None, demo_team: bool = False
) -> tuple[str, list[str]]:
    """Create or migrate the schema and seed the default pathway (and demo team).

    Returns:
        The database as it may be shown (no password) and the user ids created.
    """
    from essence.adapters.migrations import upgrade_to_head
    from essence.adapters.pathway_files import default_template
    from essence.services import setup

    settings = Settings()
    url = database_url or settings.database_url
    engine = engine_for(url, settings)
    check_ready(engine)
    upgrade_to_head(engine)
    ctx = context(database_url=url, require_schema=False)
    created = setup.seed(ctx, default_template(), with_demo_team=demo_team)
    return describe_url(url), created


def schema_status(database_url: str | None = None) -> tuple[str | None, str, str | None]:
    """The database's schema revision, the code's head, and why they do not fit (or None).

    Raises:
        DatabaseUnavailable: the database cannot be reached.
    """
    settings = Settings()
    url = database_url or settings.database_url
    revision = schema_revision(engine_for(url, settings))
    return revision, code_head(), schema_problem(revision)


def web_session_store(database_url: str | None = None) -> SqlSessionStore:
    """The web app's session store on the configured database."""
    from essence.adapters.web_sessions import SqlSessionStore

    settings = Settings()
    return SqlSessionStore(engine_for(database_url or settings.database_url, settings))


def web_run_store(database_url: str | None = None) -> SqlRunStore:
    """The web app's background runs (capacity, re-plan) on the configured database."""
    from essence.adapters.web_runs import SqlRunStore

    settings = Settings()
    return SqlRunStore(engine_for(database_url or settings.database_url, settings))


@contextmanager
def scratch_context(
    clock: Callable[[], datetime], directory: str | None = None
) -> Iterator[ServiceContext]:
    """A context on a new, initialised SQLite file in a temporary folder (the digital twin's
    scratch database; never the user's). The file and its engine go when the block ends,
    unless `directory` is given, in which case ``twin.db`` stays there for inspection.
    """
    with tempfile.TemporaryDirectory(prefix="essence-twin-") as temporary:
        folder = Path(directory) if directory else Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        database = folder / "twin.db"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{database}"
        initialise(database_url=url)
        try:
            yield context(database_url=url, clock=clock)
        finally:
            engine = _ENGINES.pop(url, None)
            if engine is not None:
                engine.dispose()
