"""Migration 0006 adds the web's tables (sessions, language choices, background runs) and
takes them away again; their constraints hold on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from essence import bootstrap
from tests.factories import migrate

WEB_TABLES = {"web_session", "web_preference", "web_run"}


def test_0006_adds_the_web_tables_and_takes_them_away(database_url: str) -> None:
    bootstrap.initialise(database_url=database_url, demo_team=True)
    engine = bootstrap.engine_for(database_url)
    assert set(inspect(engine).get_table_names()) >= WEB_TABLES
    store = bootstrap.web_session_store(database_url)
    session = store.create("coord-1", "coordinator")
    assert store.get(session.token) is not None
    store.set_language("coord-1", "en")
    assert store.language("coord-1") == "en"

    migrate(database_url, "0004_lifecycle")
    assert not WEB_TABLES & set(inspect(engine).get_table_names())
    migrate(database_url, "head")
    assert set(inspect(engine).get_table_names()) >= WEB_TABLES
    assert store.get(session.token) is None, "sessions went with the downgrade"


def test_the_web_tables_refuse_bad_rows(database_url: str) -> None:
    bootstrap.initialise(database_url=database_url, demo_team=True)
    engine = bootstrap.engine_for(database_url)
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    bad = (
        ("INSERT INTO web_preference (user_id, language) VALUES ('coord-1', 'de')", {}),
        ("INSERT INTO web_preference (user_id, language) VALUES ('nobody', 'sv')", {}),
        (
            "INSERT INTO web_run (id, kind, owner, done, total, error, started_at, updated_at,"
            " finished) VALUES ('r1', 'capacity', 'coord-1', 5, 2, '', :now, :now, false)",
            {"now": now},
        ),
    )
    for sql, params in bad:
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(sql), params)
