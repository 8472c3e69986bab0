"""Any damage to a referral Bundle gives an error naming an element path, never a crash.

Hypothesis replaces one value anywhere in the region's referral with arbitrary JSON.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from essence.adapters.fhir.referral_in import parse_referral
from essence.domain.errors import InvalidInput

FIXTURE = Path(__file__).parents[1] / "fixtures" / "fhir" / "referral-sorsele.json"
TODAY = date(2026, 10, 5)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


BUNDLE = json.loads(FIXTURE.read_text(encoding="utf-8"))
PATHS = _paths(BUNDLE)


def _replaced(path: tuple[Any, ...], value: Any) -> Any:
    data = json.loads(json.dumps(BUNDLE))
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


def test_the_untouched_referral_parses() -> None:
    parsed = parse_referral(BUNDLE, TODAY)
    assert parsed.imported.referral.municipality == "Sorsele"


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(PATHS), value=JSON_VALUES)
def test_any_replaced_value_parses_or_names_an_element(path: tuple[Any, ...], value: Any) -> None:
    try:
        parsed = parse_referral(_replaced(path, value), TODAY)
    except InvalidInput as error:
        assert error.field.startswith("Bundle"), error.field
        assert "202204182386" not in str(error)
    else:
        assert parsed.imported.referral.personnummer
