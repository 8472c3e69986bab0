"""Bad scenarios are rejected with one message that names the field and value."""

from __future__ import annotations

import pytest

from essence.domain.errors import InvalidInput
from essence.simulation.model import compile_model
from essence.simulation.queueing import mmc_mean_wait
from essence.simulation.scenario import parse_scenario


def test_unknown_key_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"calendar\.sick_rate: unknown key"):
        parse_scenario({"calendar": {"sick_rate": 0.1}})


def test_unknown_top_level_key_is_named() -> None:
    with pytest.raises(InvalidInput, match="childrens_per_year: unknown key"):
        parse_scenario({"childrens_per_year": 300})


def test_negative_rate_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="children_per_year: -5"):
        parse_scenario({"children_per_year": -5})


def test_zero_staff_names_the_profession_and_its_steps() -> None:
    staff = {"coordinator": 1, "psychologist": 3, "speech_therapist": 1, "physician": 0,
             "physiotherapist": 1, "bhv_nurse": 1, "habilitation": 1}  # fmt: skip
    scenario = parse_scenario({"teams": [{"base": "Umeå", "staff": staff}]})
    with pytest.raises(InvalidInput, match=r"no physician.*medical_exam"):
        compile_model(scenario)


def test_unknown_profession_in_staff_is_rejected() -> None:
    with pytest.raises(InvalidInput, match=r"teams\.0\.staff"):
        parse_scenario({"teams": [{"base": "Umeå", "staff": {"wizard": 1}}]})


def test_team_base_must_be_a_municipality() -> None:
    staff = {"coordinator": 1}
    with pytest.raises(InvalidInput, match=r"teams\.0\.base: Oslo"):
        compile_model(parse_scenario({"teams": [{"base": "Oslo", "staff": staff}]}))


def test_unstable_queue_has_no_steady_state() -> None:
    with pytest.raises(InvalidInput, match="utilisation"):
        mmc_mean_wait(2.0, 1.0, 2)
