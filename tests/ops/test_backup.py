"""Backups round-trip: every table equal after `essence backup` and `essence restore` into an
empty database, the append-only audit log included; refusals are one clear line."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from essence import bootstrap
from essence.cli.app import app
from essence.services import cases
from tests.conftest import postgres_admin_url
from tests.factories import referral
from tests.ops.helpers import dump_tables


@pytest.fixture
def empty_twin(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind as `database_url`."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"essence_restore_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    yield url
    engine = bootstrap._ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _cli(url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env={"ESSENCE_DATABASE_URL": url})


def test_backup_and_restore_round_trip_every_table(
    app_context, database_url: str, empty_twin: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        case = cases.open_case(app_context, referral())
    cases.show_case(app_context, case.id)
    source = bootstrap.engine_for(database_url)
    before = dump_tables(source)
    assert len(before["audit_event"]) >= 4

    out = tmp_path / "essence.backup"
    made = _cli(database_url, "backup", "--out", str(out), "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["size_bytes"] == out.stat().st_size > 0
    assert not list(tmp_path.glob("*.partial"))
    again = _cli(database_url, "backup", "--out", str(out))
    assert again.exit_code == 2 and "exists already" in again.stderr

    restored = _cli(empty_twin, "restore", str(out))
    assert restored.exit_code == 0, restored.output
    target = bootstrap.engine_for(empty_twin)
    assert dump_tables(target) == before
    with target.begin() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text("DELETE FROM audit_event"))
    shown = cases.show_case(bootstrap.context(user_id="coord-1", database_url=empty_twin), case.id)
    assert shown.id == case.id

    refused = _cli(empty_twin, "restore", str(out))
    assert refused.exit_code == 2
    assert "is not empty" in refused.stderr and refused.stderr.count("\n") == 1


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a database")
    result = _cli(f"sqlite:///{tmp_path / 'new.db'}", "restore", str(junk))
    assert result.exit_code == 2
    assert "is not a SQLite backup" in result.stderr


def test_postgres_backup_without_pg_dump_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from essence.adapters import backup
    from essence.domain.errors import InfrastructureError

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InfrastructureError, match="pg_dump: not installed; install"):
        backup._run_pg("pg_dump", make_url(postgres_admin_url()), [])
