"""`essence simulate` and `essence capacity` end to end through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from essence.cli.simulate import app

runner = CliRunner()
QUICK = ["--years", "0.5", "--replications", "3", "--workers", "1"]


def _error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_simulate_prints_json_with_confidence_intervals_per_policy() -> None:
    result = runner.invoke(app, ["simulate", *QUICK, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    policies = {p["policy"]: p for p in report["policies"]}
    assert set(policies) == {"sequential", "coordinated"}
    coordinated = policies["coordinated"]
    assert coordinated["median_days"]["low"] <= coordinated["median_days"]["mean"]
    assert coordinated["median_days"]["mean"] < policies["sequential"]["median_days"]["mean"]
    groups = {g["name"] for g in coordinated["groups"] if g["dimension"] == "municipality_group"}
    assert groups == {"umea", "coast", "inland"}


def test_small_groups_are_suppressed_in_the_json() -> None:
    result = runner.invoke(app, ["simulate", *QUICK, "--json", "--children-per-year", "40"])
    report = json.loads(result.stdout)
    sorsele = next(g for g in report["policies"][0]["groups"] if g["name"] == "Sorsele")
    assert sorsele["suppressed"] is True
    assert sorsele["median_days"] is None and sorsele["children_per_year"] is None


def test_simulate_prints_tables_and_writes_charts(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["simulate", *QUICK, "--policy", "coordinated", "--plot", str(tmp_path / "charts")]
    )
    assert result.exit_code == 0, result.output
    assert "coordinated" in result.stdout and "psychologist" in result.stdout
    pngs = sorted(p.name for p in (tmp_path / "charts").glob("*.png"))
    assert pngs == ["lead_times.png", "municipalities.png", "utilisation.png"]


def test_a_packaged_team_setup_can_be_chosen_by_name() -> None:
    result = runner.invoke(app, ["simulate", *QUICK, "--team", "ambulating", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["setup"] == "ambulating"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--replications", "1"], "replications: 1: need at least 2"),
        (["--children-per-year", "-5"], "children_per_year: -5"),
        (["--policy", "magic"], "policy: magic: unknown"),
        (["--team", "nowhere"], "setup: nowhere: unknown"),
    ],
)
def test_bad_flags_give_one_line_and_exit_2(arguments: list[str], expected: str) -> None:
    result = runner.invoke(app, ["simulate", "--workers", "1", *arguments])
    assert result.exit_code == 2
    assert expected in _error_line(result)


def test_unknown_scenario_key_is_named(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("children_per_year: 300\nwarm_up_days: 30\n", encoding="utf-8")
    result = runner.invoke(app, ["simulate", "--scenario", str(scenario)])
    assert result.exit_code == 2
    assert "warm_up_days: unknown key" in _error_line(result)


def test_team_without_a_needed_profession_names_it(tmp_path: Path) -> None:
    team = tmp_path / "team.yaml"
    team.write_text(
        "teams:\n  - base: Umeå\n    staff: {coordinator: 1, psychologist: 3, speech_therapist: 1,"
        " physician: 1, physiotherapist: 0, bhv_nurse: 1, habilitation: 1}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["simulate", "--team", str(team)])
    assert result.exit_code == 2
    assert "physiotherapist" in _error_line(result)


def test_capacity_finds_a_staffing_that_meets_the_target() -> None:
    result = runner.invoke(
        app,
        ["capacity", "--children-per-year", "100", "--setup", "central", "--replications", "3",
         "--screen-replications", "2", "--years", "0.5", "--workers", "1", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    candidate = json.loads(result.stdout)["candidates"][0]
    assert candidate["setup"] == "central"
    assert candidate["meets_target"] is True
    assert candidate["p90_days"]["high"] <= 90
    assert candidate["staff_by_profession"]["psychologist"] >= 1
