"""Shared fixtures: a migrated database per test on SQLite and, when reachable, PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from essence import bootstrap
from essence.services.context import ServiceContext
from tests.factories import FixedClock

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("ESSENCE_LOG_LEVEL", "WARNING")  # the log tests turn INFO on themselves
# Spawned `essence` processes run in-process: no test leaves a resident worker behind; the
# worker has its own tests in tests/cli, which turn it on explicitly.
os.environ.setdefault("ESSENCE_NO_WORKER", "1")

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> str:
    """The PostgreSQL the tests may use (ESSENCE_TEST_POSTGRES_URL overrides the default)."""
    return os.environ.get("ESSENCE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _postgres_reachable() -> bool:
    try:
        engine = create_engine(postgres_admin_url(), connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


POSTGRES_REACHABLE = _postgres_reachable()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    if not POSTGRES_REACHABLE:
        pytest.skip("PostgreSQL not reachable (set ESSENCE_TEST_POSTGRES_URL)")
    admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"essence_test_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)
    yield url
    for engine_url, engine in list(bootstrap._ENGINES.items()):
        if name in engine_url:
            engine.dispose()
            del bootstrap._ENGINES[engine_url]
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = bootstrap.engine_for(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty database URL: a new SQLite file, or the session's PostgreSQL wiped clean."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'essence.db'}"
    url = request.getfixturevalue("postgres_database")
    _reset_postgres(url)
    return url


@pytest.fixture
def clock() -> FixedClock:
    """A clock standing on Monday 2026-03-02, 10:00 Stockholm."""
    fixed = FixedClock(now=None)  # type: ignore[arg-type]
    fixed.set(date(2026, 3, 2))
    return fixed


@pytest.fixture
def app_context(database_url: str, clock: FixedClock) -> ServiceContext:
    """An initialised database with the default pathway and demo team; acts as coord-1."""
    bootstrap.initialise(database_url=database_url, demo_team=True)
    return bootstrap.context(user_id="coord-1", database_url=database_url, clock=clock)
