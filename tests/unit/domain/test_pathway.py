"""Pathway templates: validation of the DAG and the critical path."""

import copy

import pytest
import yaml

from essence.adapters.pathway_files import DEFAULT_TEMPLATE_RESOURCE, default_template
from essence.domain.errors import PathwayCycle, PathwayError
from essence.domain.pathway import PathwayTemplate


@pytest.fixture
def raw() -> dict:
    return copy.deepcopy(default_template().model_dump(mode="json"))


def test_the_default_pathway_follows_the_domain_table() -> None:
    template = default_template()
    assert template.step("autism_observation").is_joint
    assert template.step("questionnaires").is_waiting
    assert template.step("questionnaires").wait_days == 14
    assert template.feedback_key == "feedback_meeting"
    assert set(template.step("team_conference").requires) >= {"cognitive_test", "vineland"}
    assert DEFAULT_TEMPLATE_RESOURCE.endswith(".yaml")


def test_topological_order_puts_every_step_after_its_prerequisites() -> None:
    template = default_template()
    order = template.topological_order()
    assert sorted(order) == sorted(template.keys)
    for step in template.steps:
        for prerequisite in step.requires:
            assert order.index(prerequisite) < order.index(step.key)


def test_the_critical_path_runs_through_the_questionnaire_wait() -> None:
    path = default_template().critical_path()
    assert path.steps == (
        "intake",
        "questionnaires",
        "parent_interview",
        "vineland",
        "team_conference",
        "feedback_meeting",
    )
    assert path.days == 5 + 14 + 7 + 7 + 5 + 7


def test_completed_steps_shorten_the_remaining_critical_path() -> None:
    template = default_template()
    assert template.critical_path(done={"intake", "questionnaires"}).days == 7 + 7 + 5 + 7


def test_a_cycle_is_rejected_and_named(raw: dict) -> None:
    raw["steps"][0]["requires"] = ["feedback_meeting"]
    with pytest.raises(PathwayCycle) as error:
        PathwayTemplate.from_mapping(raw)
    assert error.value.cycle[0] == error.value.cycle[-1]
    assert "intake" in str(error.value) and "team_conference" in str(error.value)


def test_an_unknown_prerequisite_is_rejected(raw: dict) -> None:
    raw["steps"][3]["requires"] = ["magic"]
    with pytest.raises(PathwayError, match="unknown prerequisite magic"):
        PathwayTemplate.from_mapping(raw)


def test_an_unknown_profession_is_rejected(raw: dict) -> None:
    raw["steps"][2]["professions"] = ["wizard"]
    with pytest.raises(PathwayError, match=r"bhv_records.*professions.*wizard"):
        PathwayTemplate.from_mapping(raw)


@pytest.mark.parametrize("minutes", [0, -5])
def test_a_non_positive_duration_is_rejected(raw: dict, minutes: int) -> None:
    raw["steps"][4]["minutes"] = minutes
    with pytest.raises(PathwayError, match=f"medical_exam: minutes: {minutes}"):
        PathwayTemplate.from_mapping(raw)


def test_a_waiting_step_needs_wait_days(raw: dict) -> None:
    raw["steps"][1]["wait_days"] = 0
    with pytest.raises(PathwayError, match="questionnaires: wait_days"):
        PathwayTemplate.from_mapping(raw)


def test_duplicate_keys_and_unknown_fields_are_rejected(raw: dict) -> None:
    duplicate = copy.deepcopy(raw)
    duplicate["steps"][1]["key"] = "intake"
    with pytest.raises(PathwayError, match="used twice"):
        PathwayTemplate.from_mapping(duplicate)
    raw["steps"][0]["colour"] = "blue"
    with pytest.raises(PathwayError, match="intake: colour: blue: unknown field"):
        PathwayTemplate.from_mapping(raw)


def test_exactly_one_feedback_milestone_is_required(raw: dict) -> None:
    raw["steps"][12]["milestone"] = ""
    with pytest.raises(PathwayError, match="milestone: feedback"):
        PathwayTemplate.from_mapping(raw)


def test_the_fingerprint_tells_versions_apart(raw: dict) -> None:
    changed = copy.deepcopy(raw)
    changed["steps"][0]["minutes"] = 60
    assert PathwayTemplate.from_mapping(raw).fingerprint() != (
        PathwayTemplate.from_mapping(changed).fingerprint()
    )
    assert yaml.safe_dump(raw)
