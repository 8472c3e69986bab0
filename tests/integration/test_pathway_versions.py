"""Pathway templates are versioned: a running case keeps the version it started with."""

from __future__ import annotations

import pytest

from essence.adapters.pathway_files import default_template
from essence.domain.errors import InvalidInput
from essence.domain.pathway import PathwayTemplate
from essence.services import cases, setup, steps
from essence.services.context import ServiceContext
from tests.factories import referral


def _version_two() -> PathwayTemplate:
    data = default_template().model_dump(mode="json")
    data["version"] = 2
    for step in data["steps"]:
        if step["key"] == "medical_exam":
            step["minutes"] = 60
    return PathwayTemplate.from_mapping(data)


def test_a_new_version_applies_to_new_cases_only(app_context: ServiceContext) -> None:
    old_case = cases.open_case(app_context, referral()).id
    setup.store_pathway(app_context, _version_two())
    new_case = cases.open_case(app_context, referral()).id
    assert cases.show_case(app_context, old_case).pathway_version == 1
    assert cases.show_case(app_context, new_case).pathway_version == 2
    minutes = {s.key: s.minutes for s in cases.show_case(app_context, old_case).steps}
    assert minutes["medical_exam"] == 90
    steps.complete_step(app_context, old_case, "intake")
    assert cases.show_case(app_context, old_case).pathway_version == 1


def test_a_version_number_cannot_be_reused_for_other_content(app_context: ServiceContext) -> None:
    data = _version_two().model_dump(mode="json")
    data["version"] = 1
    with pytest.raises(InvalidInput, match="raise the version number"):
        setup.store_pathway(app_context, PathwayTemplate.from_mapping(data))
    setup.store_pathway(app_context, default_template())  # identical content is a no-op
