"""Complementary small-count suppression: no hidden cell can be recovered by subtraction."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from essence.domain.metrics import CaseMetrics, cohort_metrics, suppressed_breakdown
from essence.domain.suppression import SUPPRESS_BELOW, suppressed_cells


def test_a_small_cell_hides_the_next_smallest_too() -> None:
    assert suppressed_cells({"girl": 6, "boy": 3}) == {"girl", "boy"}


def test_large_cells_are_all_shown() -> None:
    assert suppressed_cells({"umea": 12, "coast": 7, "inland": 5}) == frozenset()


def test_two_small_cells_summing_under_five_take_a_third() -> None:
    hidden = suppressed_cells({"umea": 20, "coast": 1, "inland": 2, "other": 9})
    assert hidden == {"coast", "inland", "other"}


def test_zero_cells_are_shown_and_never_the_complement() -> None:
    assert suppressed_cells({"a": 0, "b": 3, "c": 8}) == {"b", "c"}


@given(st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 30), min_size=1))
def test_no_hidden_small_count_is_recoverable_from_the_total(counts: dict[str, int]) -> None:
    hidden = suppressed_cells(counts)
    small = {k for k, v in counts.items() if 0 < v < SUPPRESS_BELOW}
    assert small <= hidden
    if hidden and any(counts[k] > 0 for k in counts if k not in hidden):
        # total − shown cells = the hidden cells' sum: never a single cell, never a small count
        assert len(hidden) >= 2 and sum(counts[k] for k in hidden) >= SUPPRESS_BELOW


def _metric(case_id: str, gender: str, lead: int | None) -> CaseMetrics:
    from datetime import date

    return CaseMetrics(
        case_id=case_id, state="closed", municipality="Umeå", gender=gender,
        referral_date=date(2026, 1, 5), feedback_date=None, lead_time_days=lead,
        projected_feedback=None, projected_lead_time_days=lead, days_saved=None,
        percent_saved=None, days_to_first_visit=None, days_to_assessment_start=None,
        visit_days=1,
    )  # fmt: skip


def test_nine_children_six_girls_three_boys_hides_both_genders() -> None:
    girls = [_metric(f"g{i}", "girl", 80 + i) for i in range(6)]
    boys = [_metric(f"b{i}", "boy", 100 + i) for i in range(3)]
    shown = suppressed_breakdown({"girl": cohort_metrics(girls), "boy": cohort_metrics(boys)})
    assert shown["girl"].cases is None and shown["boy"].cases is None
    assert shown["girl"].suppressed and shown["boy"].suppressed
    assert shown["girl"].median_lead_time_days is None
