"""`essence twin` end to end through typer's CliRunner: JSON, tables at 80 columns, bad input."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from essence.cli.app import app

runner = CliRunner()
TINY = [
    "twin", "--children-per-year", "40", "--years", "0.25", "--warmup-days", "0",
    "--replan-every-days", "5", "--budget-s", "0.2", "--simulator-replications", "2",
]  # fmt: skip


def test_twin_prints_json_with_both_sides_and_the_checks() -> None:
    result = runner.invoke(app, [*TINY, "--seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["twin"]["policy"] == "twin (essence engine)"
    assert report["simulator_policy"] == "coordinated"
    assert report["checks"]["planner_findings"] == 0
    assert report["checks"]["invariant_violations"] == 0
    assert {row["phase"] for row in report["timings"]} >= {"daily sweep", "appointments"}
    assert len(report["load_average_start"]) == 3


def test_twin_tables_fit_in_80_columns(tmp_path) -> None:
    result = runner.invoke(
        app, [*TINY, "--seed", "2", "--verbose", "--plot", str(tmp_path)], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    assert "Twin vs simulator" in result.output and "Where the time went" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert (tmp_path / "lead_times.png").exists()


def test_a_bad_option_is_one_line_naming_it() -> None:
    result = runner.invoke(app, [*TINY, "--replan-every-days", "0"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "replan-every-days" in lines[0]
