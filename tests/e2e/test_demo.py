"""`essence demo`: the main job runs on a fresh SQLite file and is reproducible."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from essence.cli.app import app


def _run(tmp_path: Path, name: str) -> dict:
    result = CliRunner().invoke(
        app, ["demo", "--children", "8", "--db-file", str(tmp_path / name), "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_two_seeded_demo_runs_print_the_same_figures(tmp_path: Path) -> None:
    first, second = _run(tmp_path, "a.db"), _run(tmp_path, "b.db")
    first.pop("database"), second.pop("database")
    assert first == second
    cohort = first["report"]["cohort"]
    assert cohort["cases"] == 8
    assert cohort["with_feedback"] >= 1
    assert cohort["median_lead_time_days"] < 140


def test_the_demo_prints_a_summary_for_people(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--children", "5", "--db-file", str(tmp_path / "d.db")]
    )
    assert result.exit_code == 0, result.output
    assert "median lead time" in result.stdout
    assert "140-day baseline" in result.stdout
