"""Migrations both ways: empty → head, the demo in, step by step down to the first revision
and up again, data intact where the schema allows; on SQLite and PostgreSQL. Iterates over
whatever revisions ship, so new migrations are covered without touching this test.

On the way down every row survives (same primary keys); a migration may re-encode values
it owns on the way (0004 rewrites the templates without `skippable`). After the round trip
every column that existed throughout holds exactly the data it held before.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from essence import bootstrap
from essence.adapters.migrations import alembic_config, downgrade, upgrade
from essence.adapters.schema_version import code_head, revisions
from essence.cli.app import app
from essence.domain.errors import SchemaMismatch
from tests.ops.helpers import columns_of, dump_tables, fill_with_demo


def _revision(engine) -> str | None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def test_the_fast_revision_reader_agrees_with_alembic(tmp_path: Path) -> None:
    engine = bootstrap.engine_for(f"sqlite:///{tmp_path / 'x.db'}")
    script = ScriptDirectory.from_config(alembic_config(engine))
    assert script.get_heads() == [code_head()]
    walked = [r.revision for r in script.walk_revisions()][::-1]
    assert [r.id for r in revisions()] == walked


def _keys(engine, table: str, dump: dict[str, list[dict]]) -> list[tuple]:  # type: ignore[no-untyped-def]
    """The primary keys of `table`'s rows in a dump."""
    with engine.connect() as connection:
        key = inspect(connection).get_pk_constraint(table).get("constrained_columns") or []
    return sorted(tuple(row[k] for k in key) for row in dump[table])


def _projection(dump: dict[str, list[dict]], columns: dict[str, set[str]]) -> dict[str, list[dict]]:
    return {
        table: [{k: v for k, v in row.items() if k in columns[table]} for row in rows]
        for table, rows in dump.items()
        if table in columns and table != "alembic_version"
    }


@pytest.mark.slow
def test_migrations_run_down_to_the_first_revision_and_up_again(database_url: str) -> None:
    fill_with_demo(database_url)
    engine = bootstrap.engine_for(database_url)
    assert _revision(engine) == code_head()
    original = dump_tables(engine)
    assert len(original["essence_case"]) == 6 and original["audit_event"]
    chain = [r.id for r in revisions()]
    columns_everywhere = columns_of(engine)
    for expected in reversed(chain[:-1]):
        downgrade(engine, "-1")
        assert _revision(engine) == expected
        now_columns = columns_of(engine)
        for table in set(columns_everywhere) - set(now_columns):
            del columns_everywhere[table]
        for table, cols in now_columns.items():
            if table in columns_everywhere:
                columns_everywhere[table] &= cols
        current = dump_tables(engine)
        for table in set(columns_everywhere) - {"alembic_version"}:  # no row lost going down
            assert _keys(engine, table, current) == _keys(engine, table, original), (
                f"rows of {table} changed when going down to {expected}"
            )
    assert _revision(engine) == chain[0]
    upgrade(engine, "head")
    assert _revision(engine) == code_head()
    again = dump_tables(engine)
    assert _projection(again, columns_everywhere) == _projection(original, columns_everywhere)
    with engine.begin() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text("UPDATE audit_event SET outcome = 'x'"))
    engine.dispose()


def test_cli_and_web_refuse_a_database_behind_or_ahead(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'essence.db'}"
    runner = CliRunner()
    env = {"ESSENCE_DATABASE_URL": url, "ESSENCE_USER": "coord-1"}
    assert runner.invoke(app, ["init", "--demo"], env=env).exit_code == 0
    engine = bootstrap.engine_for(url)
    previous = [r.id for r in revisions()][-2]

    assert runner.invoke(app, ["db", "downgrade", "--to", previous], env=env).exit_code == 0
    behind = runner.invoke(app, ["case", "list"], env=env)
    assert behind.exit_code == 1
    assert behind.stderr.strip().count("\n") == 0
    assert "behind" in behind.stderr and "essence db upgrade" in behind.stderr
    with pytest.raises(SchemaMismatch, match="essence db upgrade"):
        bootstrap.context(database_url=url)
    web = runner.invoke(app, ["web", "--port", "1"], env=env)
    assert web.exit_code == 1 and "essence db upgrade" in web.stderr

    current = runner.invoke(app, ["db", "current", "--json"], env=env)
    assert current.exit_code == 0 and f'"revision": "{previous}"' in current.stdout
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(app, ["case", "list"], env=env).exit_code == 0

    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    ahead = runner.invoke(app, ["case", "list"], env=env)
    assert ahead.exit_code == 1
    assert "newer" in ahead.stderr and f"essence db downgrade --to {code_head()}" in ahead.stderr
    history = runner.invoke(app, ["db", "history", "--json"], env=env)
    assert history.exit_code == 0 and code_head() in history.stdout
    bad = runner.invoke(app, ["db", "downgrade", "--to", "nonsense"], env=env)
    assert bad.exit_code == 2 and "to: nonsense: unknown revision" in bad.stderr
    engine.dispose()
