"""CLI fixtures: an initialised SQLite file with the demo team, and a runner bound to it.

The e2e tests run `essence` processes in-process (`ESSENCE_NO_WORKER=1`, set for every test
in tests/conftest.py): the resident worker has its own tests in `tests/cli`, which compare
both ways.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from essence.cli.app import app


@dataclass
class Cli:
    """Runs `essence …` in-process against one database file."""

    database_file: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.database_file}"

    def __call__(self, *args: str, user: str | None = "coord-1") -> Result:
        prefix = ["--as", user] if user else []
        return CliRunner().invoke(app, [*prefix, *args], env={"ESSENCE_DATABASE_URL": self.url})

    def counts(self) -> dict[str, int]:
        """Rows per table, to prove that a refused command wrote nothing."""
        with sqlite3.connect(self.database_file) as connection:
            tables = ("essence_case", "case_step", "step_assignment", "audit_event", "clinician")
            return {
                t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables
            }


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    runner = Cli(tmp_path / "essence.db")
    result = runner("init", "--demo", user=None)
    assert result.exit_code == 0, result.output
    return runner


@pytest.fixture
def opened_case(cli: Cli) -> Callable[..., str]:
    """Open a case through the CLI (both guardians' consent given unless `extra` says
    otherwise) and return its id."""
    import json

    from tests.factories import personnummer

    def open_one(*extra: str) -> str:
        result = cli(
            "case", "open", "--personnummer", personnummer().digits, "--name", "Testa Testsson",
            "--municipality", "Vilhelmina", "--referring-unit", "BHV Vilhelmina",
            "--referral-date", "2026-10-01", "--consent", "2", *extra, "--json",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["id"]

    return open_one
