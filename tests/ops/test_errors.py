"""Database errors are classified by driver class and SQLSTATE, on real SQLite and PostgreSQL
connections; integrity errors are named by the constraint that fired; retries back off."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from essence import bootstrap
from essence.adapters import database
from essence.adapters.db_errors import Fault, classify
from essence.adapters.integrity import integrity_error, violation_of
from essence.domain.access import Role, User
from essence.domain.errors import (
    ConcurrencyConflict,
    DatabaseUnavailable,
    InvalidInput,
    NotFound,
)
from essence.services import context as context_module
from essence.services.backoff import Backoff
from essence.services.context import ServiceContext, run_use_case
from flows.retry import is_transient
from tests.conftest import POSTGRES_REACHABLE, _reset_postgres, postgres_admin_url

needs_postgres = pytest.mark.skipif(not POSTGRES_REACHABLE, reason="PostgreSQL not reachable")


def test_sqlite_busy_is_a_transient_conflict(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    waiter = sqlite3.connect(path, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as caught:
        waiter.execute("INSERT INTO t VALUES (1)")
    holder.rollback()
    assert classify(caught.value) is Fault.BUSY
    assert Fault.BUSY.transient and Fault.BUSY.conflict


def test_sqlite_read_only_and_plain_errors_are_not_transient(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x INTEGER)")
    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as caught:
        read_only.execute("INSERT INTO t VALUES (1)")
    assert classify(caught.value) is Fault.READ_ONLY
    with pytest.raises(sqlite3.OperationalError) as syntax:
        read_only.execute("SELEC 1")
    assert classify(syntax.value) is None


def _pg_engine():  # type: ignore[no-untyped-def]
    return create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")


@needs_postgres
def test_postgres_serialization_failure_is_classified_by_sqlstate() -> None:
    engine = _pg_engine()
    with engine.connect() as setup:
        setup.execute(text("DROP TABLE IF EXISTS i13_ser; CREATE TABLE i13_ser (x int)"))
        setup.execute(text("INSERT INTO i13_ser VALUES (1)"))
    first, second = engine.connect(), engine.connect()
    try:
        for connection in (first, second):
            connection.execute(text("BEGIN ISOLATION LEVEL SERIALIZABLE"))
            connection.execute(text("SELECT * FROM i13_ser")).all()
        first.execute(text("UPDATE i13_ser SET x = 2"))
        first.execute(text("COMMIT"))
        with pytest.raises(DBAPIError) as caught:
            second.execute(text("UPDATE i13_ser SET x = 3"))
        assert classify(caught.value) is Fault.SERIALIZATION
    finally:
        first.close()
        second.close()
        with engine.connect() as teardown:
            teardown.execute(text("DROP TABLE IF EXISTS i13_ser"))
        engine.dispose()


@needs_postgres
def test_postgres_deadlock_is_classified_by_sqlstate() -> None:
    engine = _pg_engine()
    with engine.connect() as setup:
        setup.execute(text("DROP TABLE IF EXISTS i13_dl; CREATE TABLE i13_dl (id int, x int)"))
        setup.execute(text("INSERT INTO i13_dl VALUES (1, 0), (2, 0)"))
    first, second = engine.connect(), engine.connect()
    errors: list[BaseException] = []

    def cross(connection, a: int, b: int, barrier: threading.Barrier) -> None:  # type: ignore[no-untyped-def]
        try:
            connection.execute(text("BEGIN"))
            connection.execute(text(f"UPDATE i13_dl SET x = 1 WHERE id = {a}"))
            barrier.wait()
            connection.execute(text(f"UPDATE i13_dl SET x = 1 WHERE id = {b}"))
            connection.execute(text("COMMIT"))
        except DBAPIError as error:
            errors.append(error)
            connection.execute(text("ROLLBACK"))

    barrier = threading.Barrier(2)
    threads = [
        threading.Thread(target=cross, args=(first, 1, 2, barrier)),
        threading.Thread(target=cross, args=(second, 2, 1, barrier)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    first.close()
    second.close()
    with engine.connect() as teardown:
        teardown.execute(text("DROP TABLE IF EXISTS i13_dl"))
    engine.dispose()
    assert len(errors) == 1
    assert classify(errors[0]) is Fault.DEADLOCK


@needs_postgres
def test_postgres_terminated_connection_is_connection_lost() -> None:
    engine = create_engine(postgres_admin_url())
    killer = _pg_engine()
    with engine.connect() as victim:
        pid = victim.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with killer.connect() as connection:
            connection.execute(text(f"SELECT pg_terminate_backend({pid})"))
        with pytest.raises(DBAPIError) as caught:
            victim.execute(text("SELECT 1"))
    engine.dispose()
    killer.dispose()
    assert classify(caught.value) is Fault.CONNECTION


def test_foreign_key_failure_names_the_missing_clinician(app_context: ServiceContext) -> None:
    with app_context.uow_factory() as uow, pytest.raises(NotFound) as caught:
        uow.users.add(User("ghost", Role.CLINICIAN, "no-such-clinician"))
    assert str(caught.value) == "clinician: no-such-clinician: not found"


def test_unique_failure_names_the_field_and_hides_personal_values(
    app_context: ServiceContext,
) -> None:
    engine = bootstrap.engine_for(str(app_context.uow_factory().engine.url))  # type: ignore[attr-defined]
    with engine.connect() as connection:
        with pytest.raises(IntegrityError) as caught:
            connection.execute(
                text(
                    "INSERT INTO pathway_template (name, version, fingerprint, content, created_at)"
                    " SELECT name, version, fingerprint, content, created_at FROM pathway_template"
                )
            )
        connection.rollback()
    violation = violation_of(caught.value)
    assert violation.kind == "unique"
    assert set(violation.columns) == {"name", "version"}
    error = integrity_error(caught.value)
    assert isinstance(error, InvalidInput) and "already exists" in str(error)


def test_a_conflict_is_retried_with_jittered_bounded_backoff(
    app_context: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    waits: list[float] = []
    backoff = Backoff(base_s=0.01, cap_s=0.03, rng=np.random.default_rng(7), sleep=waits.append)
    monkeypatch.setattr(context_module, "DEFAULT_BACKOFF", backoff)
    calls = []

    def body(_uow, _user):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) < 4:
            raise ConcurrencyConflict("c-x")
        return "done"

    assert run_use_case(app_context, "test.retry", body) == "done"
    assert len(calls) == 4 and len(waits) == 3
    assert all(0 <= w <= bound for w, bound in zip(waits, (0.01, 0.02, 0.03), strict=True))
    assert len(set(waits)) == 3  # jittered, not lock-step

    calls.clear()
    waits.clear()

    def always(_uow, _user):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise ConcurrencyConflict("c-x")

    with pytest.raises(ConcurrencyConflict):
        run_use_case(app_context, "test.retry", always, retries=2)
    assert len(calls) == 3 and len(waits) == 2


@pytest.mark.parametrize(
    ("error", "runs"),
    [
        (DatabaseUnavailable("database: lost"), 3),  # CONNECTION_RETRIES + 1
        (DatabaseUnavailable("database: lost while saving", during_commit=True), 1),
        (InvalidInput("field", "x", "bad"), 1),
    ],
)
def test_only_transient_errors_run_again(
    app_context: ServiceContext,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    runs: int,
) -> None:
    monkeypatch.setattr(context_module, "DEFAULT_BACKOFF", Backoff(sleep=lambda _s: None))
    calls = []

    def body(_uow, _user):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        run_use_case(app_context, "test.retry", body, retries=4)
    assert len(calls) == runs


class _State:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def result(self) -> None:
        raise self.error


def test_prefect_retry_policy_uses_the_classification(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(sqlite3.OperationalError) as busy:
        sqlite3.connect(path, timeout=0).execute("INSERT INTO t VALUES (1)")
    holder.rollback()
    assert is_transient(None, None, _State(busy.value))
    assert is_transient(None, None, _State(DatabaseUnavailable("database: lost")))
    assert not is_transient(None, None, _State(InvalidInput("f", "v", "bad")))
    assert not is_transient(None, None, _State(RuntimeError("connection refused")))


@given(
    base=st.floats(0.001, 1.0),
    cap=st.floats(0.001, 5.0),
    attempt=st.integers(0, 30),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_backoff_wait_lies_within_its_bound(
    base: float, cap: float, attempt: int, seed: int
) -> None:
    import numpy as np

    backoff = Backoff(base_s=base, cap_s=cap, rng=np.random.default_rng(seed))
    assert 0.0 <= backoff.delay_s(attempt) <= min(cap, base * 2**attempt)


def _terminate(url: str, pids: list[int] | None = None) -> int:
    """Drop the connections `pids` (all but the killer's own when None) to `url`'s database,
    as a server restart looks to a pool; returns how many were dropped."""
    killer = _pg_engine()
    which = "pid = ANY(:pids)" if pids is not None else "pid <> pg_backend_pid()"
    with killer.connect() as connection:
        dropped = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                f"WHERE datname = :name AND {which}"
            ),
            {"name": make_url(url).database, "pids": pids or []},
        ).scalar_one()
    killer.dispose()
    return int(dropped)


@needs_postgres
def test_an_idle_pooled_connection_the_server_dropped_is_replaced_before_use(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "IDLE_PING_S", 0.0)  # every returned connection counts as idle
    engine = database.create_database_engine(postgres_database)
    with engine.connect() as connection:
        first = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert _terminate(postgres_database, [first]) == 1
    with engine.connect() as connection:
        second = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    engine.dispose()
    assert second != first


@needs_postgres
def test_a_use_case_and_a_web_session_survive_a_dropped_busy_connection(
    postgres_database: str,
) -> None:
    from essence.adapters.web_sessions import SqlSessionStore
    from essence.services import team

    _reset_postgres(postgres_database)
    bootstrap.initialise(database_url=postgres_database, demo_team=True)
    ctx = bootstrap.context(user_id="coord-1", database_url=postgres_database)
    sessions = SqlSessionStore(bootstrap.engine_for(postgres_database))
    signed_in = sessions.create("coord-1", "coordinator")
    before = len(team.list_clinicians(ctx))
    try:
        assert _terminate(postgres_database) >= 1  # in use a moment ago: not pinged
        assert len(team.list_clinicians(ctx)) == before  # the lost connection is retried
        assert _terminate(postgres_database) >= 1
        found = sessions.get(signed_in.token)
        assert found is not None and found.user_id == "coord-1"
    finally:  # later tests share this database's pool: leave no dropped connection in it
        bootstrap.engine_for(postgres_database).dispose()
