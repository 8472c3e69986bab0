"""Loading scenarios: default, files, team files, flags, policies."""

from __future__ import annotations

from pathlib import Path

import pytest

from essence.domain.errors import InvalidInput
from essence.services.capacity import load_scenario, require_replications_for_ci


def test_the_packaged_default_is_the_300_children_central_team() -> None:
    scenario = load_scenario()
    assert scenario.children_per_year == 300
    assert scenario.setup.kind == "central"
    assert set(scenario.policies) == {"sequential", "coordinated"}


def test_flags_override_the_file_and_none_is_ignored(tmp_path: Path) -> None:
    file = tmp_path / "s.yaml"
    file.write_text("children_per_year: 120\nyears: 2\n", encoding="utf-8")
    scenario = load_scenario(file, overrides={"years": 1, "seed": None}, policies=["coordinated"])
    assert (scenario.children_per_year, scenario.years, scenario.seed) == (120, 1, 1)
    assert list(scenario.policies) == ["coordinated"]


@pytest.mark.parametrize("name", ["central", "satellites", "ambulating", "travelling"])
def test_packaged_team_setups_load(name: str) -> None:
    assert load_scenario(team=name).setup.kind == name


def test_team_file_with_other_keys_is_rejected(tmp_path: Path) -> None:
    file = tmp_path / "team.yaml"
    file.write_text("teams: []\nseed: 3\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="team: seed: unknown key"):
        load_scenario(team=file)


def test_missing_scenario_file_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"scenario: nowhere\.yaml: no such file"):
        load_scenario("nowhere.yaml")


def test_confidence_intervals_need_two_replications() -> None:
    with pytest.raises(InvalidInput, match="replications: 1"):
        require_replications_for_ci(load_scenario(overrides={"replications": 1}))
