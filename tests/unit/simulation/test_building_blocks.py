"""Building blocks: calendars, durations, referrals, statistics."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from essence.simulation.durations import draw_minutes
from essence.simulation.model import compile_model
from essence.simulation.queueing import erlang_c, mmc_mean_wait
from essence.simulation.referrals import draw_referrals
from essence.simulation.scenario import DurationSpec, parse_scenario
from essence.simulation.staff_calendar import WorkClock, staff_minutes
from essence.simulation.statistics import confidence_interval, suppressed, t_quantile_975
from essence.simulation.streams import replication_streams


def test_work_started_friday_afternoon_finishes_on_monday() -> None:
    clock = WorkClock(np.array([360, 360, 360, 360, 360, 0, 0, 360], dtype=float))
    assert clock.finish_day(4.5, 180) == pytest.approx(5.0)
    assert clock.finish_day(4.5, 240) == pytest.approx(7 + 60 / 360)
    assert clock.minutes_between(0, 7) == pytest.approx(1800)


def test_without_calendar_staff_work_around_the_clock() -> None:
    assert WorkClock(None, 1440).finish_day(2.0, 720) == pytest.approx(2.5)


def test_staff_are_off_on_midsummer_eve_and_on_vacation() -> None:
    scenario = parse_scenario({"start_date": "2025-01-06", "calendar": {"sick_leave_rate": 0}})
    minutes = staff_minutes(scenario, 400, 3, np.random.default_rng(1))
    midsummer_eve = (date(2025, 6, 20) - date(2025, 1, 6)).days
    assert (minutes[:, midsummer_eve] == 0).all()
    july = slice(
        (date(2025, 7, 14) - date(2025, 1, 6)).days, (date(2025, 7, 19) - date(2025, 1, 6)).days
    )
    assert (minutes[:, july] == 0).all()
    assert (minutes[:, 0] == 0).all()  # 6 January, Epiphany
    assert (minutes[:, 1] == 300).all()


@pytest.mark.parametrize("kind", ["fixed", "exponential", "lognormal"])
def test_durations_keep_the_template_mean(kind: str) -> None:
    values = draw_minutes(DurationSpec(kind=kind), 90, 40_000, np.random.default_rng(2))
    assert values.mean() == pytest.approx(90, rel=0.02)
    assert (values > 0).all()


def test_empirical_durations_come_from_the_samples() -> None:
    spec = DurationSpec(kind="empirical", samples=(60, 120))
    assert set(draw_minutes(spec, 90, 100, np.random.default_rng(3))) == {60.0, 120.0}


def test_referrals_follow_population_and_dip_in_summer() -> None:
    scenario = parse_scenario({"children_per_year": 3000, "start_date": "2025-01-01"})
    referrals = draw_referrals(compile_model(scenario), 365, replication_streams(1, 0))
    assert referrals.days.size == pytest.approx(3000, rel=0.06)
    umea_share = (referrals.municipality == 0).mean()
    assert umea_share == pytest.approx(132_000 / 283_400, abs=0.03)
    january = ((referrals.days >= 0) & (referrals.days < 31)).sum()
    july = ((referrals.days >= 181) & (referrals.days < 212)).sum()
    assert july < 0.75 * january


def test_student_t_quantiles() -> None:
    assert t_quantile_975(1) == pytest.approx(12.706)
    assert t_quantile_975(19) == pytest.approx(2.093)
    assert t_quantile_975(100) == pytest.approx(1.984, abs=1e-3)


def test_confidence_interval_of_known_values() -> None:
    interval = confidence_interval([1.0, 2.0, 3.0])
    assert interval.mean == 2.0
    assert interval.high - interval.mean == pytest.approx(4.303 / math.sqrt(3))
    assert math.isnan(confidence_interval([1.0]).low)


def test_counts_under_five_are_suppressed() -> None:
    assert suppressed(4.9)
    assert not suppressed(5)


def test_erlang_c_textbook_value() -> None:
    assert erlang_c(2.0, 1.0, 3) == pytest.approx(4 / 9)
    assert mmc_mean_wait(0.5, 1.0, 1) == pytest.approx(1.0)
