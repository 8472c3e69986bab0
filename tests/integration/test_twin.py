"""The digital twin: a 50-child cohort through the real engine and planner, beside the simulator.

One small run (about 50 children referred over half a year, no warm-up) is shared by the
tests of this module; a second run with the same seed checks that the figures repeat.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from essence import bootstrap
from essence.domain.calendar import at_local
from essence.services.capacity import load_scenario
from essence.services.demo import SimulatedClock
from essence.services.twin import TwinOptions
from essence.services.twin_study import TwinReport, run_twin_study

SMALL = {"children_per_year": 100, "years": 0.5, "warmup_days": 0, "seed": 3}
OPTIONS = TwinOptions(replan_every_days=5, budget_s=0.2)
VARYING = ("timings", "wall_seconds", "twin_seconds", "simulator_seconds")


def small_twin(**overrides: Any) -> TwinReport:
    """Run the small twin on its own scratch database."""
    scenario = load_scenario(overrides={**SMALL, **overrides})
    clock = SimulatedClock(at_local(scenario.start_date, 7))
    with bootstrap.scratch_context(clock) as ctx:
        return run_twin_study(ctx, clock, scenario, OPTIONS, simulator_replications=2)


@pytest.fixture(scope="module")
def report() -> TwinReport:
    return small_twin()


def _figures(report: TwinReport) -> dict[str, Any]:
    data = report.model_dump(mode="json", exclude=set(VARYING))
    data.pop("load_average_start")
    data.pop("load_average_end")
    return data


def test_fifty_children_go_through_the_engine_to_feedback(report: TwinReport) -> None:
    activity = report.activity
    assert 40 <= activity.cohort_children <= 70
    assert activity.cases_opened >= activity.cohort_children  # referrals go on meanwhile
    assert activity.cohort_with_feedback == activity.cohort_children
    assert activity.appointments_held > 8 * activity.cohort_children
    assert activity.plans_cpsat > 0 and activity.plans_greedy > 0
    assert activity.consent_days_mean is not None and activity.consent_days_mean > 0
    assert 0 < report.twin.median_days.mean < report.baseline_days  # type: ignore[operator]


def test_the_planner_has_zero_findings_throughout(report: TwinReport) -> None:
    assert report.checks.planner_findings == 0, report.checks.finding_examples


def test_every_case_the_twin_created_passes_the_lifecycle_invariants(
    report: TwinReport,
) -> None:
    assert report.checks.cases_checked == report.activity.cases_opened
    assert report.checks.invariant_violations == 0, report.checks.violation_examples


def test_no_shows_and_sick_days_come_from_the_simulator_streams(report: TwinReport) -> None:
    activity = report.activity
    assert activity.no_shows > 0
    assert activity.no_shows < 0.2 * activity.family_facing_due
    assert activity.sick_days > 0


def test_the_twin_stands_beside_the_simulator_with_suppressed_small_groups(
    report: TwinReport,
) -> None:
    measures = {row.measure: row for row in report.differences}
    median = measures["median lead time"]
    assert median.twin is not None and median.simulator is not None
    assert median.difference == pytest.approx(median.twin - median.simulator, abs=0.011)
    assert "utilisation psychologist" in measures
    sorsele = next(g for g in report.twin.groups if g.name == "Sorsele")
    assert sorsele.suppressed and sorsele.median_days is None
    assert any("Booking lead" in line for line in report.explanation)


def test_the_same_seed_gives_the_same_figures(report: TwinReport) -> None:
    assert _figures(small_twin()) == _figures(report)


def test_the_twin_never_touches_the_configured_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users_db = tmp_path / "essence.db"
    monkeypatch.setenv("ESSENCE_DATABASE_URL", f"sqlite:///{users_db}")
    small_twin(children_per_year=20, years=0.25)
    assert not users_db.exists()
