"""The term follow-up's pure parts: terms, age bands and the figures over known children."""

from __future__ import annotations

from datetime import date

import pytest

from essence.adapters.pathway_files import default_template
from essence.domain.errors import InvalidInput
from essence.domain.followup import (
    ChildFollowUp,
    age_band,
    child_follow_up,
    follow_up,
    term_of,
    term_period,
)
from tests.followup_factories import worked_case


def test_terms_are_half_years_in_either_spelling() -> None:
    assert (term_period("2026H2").first, term_period("2026H2").last) == (
        date(2026, 7, 1),
        date(2026, 12, 31),
    )
    assert term_period("vt2026") == term_period("2026H1")
    assert term_period("HT 2026").label == "2026H2"
    assert term_of(date(2026, 6, 30)).label == "2026H1"


@pytest.mark.parametrize("text", ["2026H3", "2026", "H2", "autumn"])
def test_a_term_that_is_not_one_names_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        term_period(text)
    assert raised.value.field == "term"


def test_age_bands_split_hlt_0_to_5_and_keep_the_rest() -> None:
    assert [age_band(a) for a in (0, 2, 3, 5, 6, 12, 13, 16)] == [
        "0–2", "0–2", "3–5", "3–5", "6–12", "6–12", "13+", "13+",
    ]  # fmt: skip


def _child(lead: int | None, serial: int, *, km: int = 0, sip: bool = False) -> ChildFollowUp:
    case = worked_case(
        f"c-{serial}",
        default_template(),
        referral_date=date(2026, 8, 3),
        birth=date(2022, 5, 1),
        serial=serial,
        lead_days=lead,
        sip=sip,
    )
    return child_follow_up(case, date(2026, 12, 31), family_km=km, no_shows=0)


def test_five_children_give_figures_and_four_are_suppressed() -> None:
    five = [_child(d, i, km=100, sip=i < 2) for i, d in enumerate((60, 80, 100, 120, 150))]
    figures = follow_up(five)
    overall = figures.overall
    assert overall.children == 5 and not overall.suppressed
    assert overall.lead_times.median_lead_time_days == 100
    assert overall.lead_times.share_within_90_days == 0.4
    assert overall.share_within_140_days == 0.8
    assert overall.family_km_total == 500 and overall.family_km_mean == 100
    assert overall.consent_share == 1.0 and overall.sip_share == 0.4
    four = follow_up(five[:4])
    assert four.overall.suppressed
    assert four.overall.consent_share is None and four.overall.family_km_total is None
