"""Validation of the engine against queueing theory: M/M/c, tandem Jackson, fork/join.

Each test takes a 95% CI over 20+ independent replications (fixed seeds) and checks both that
the analytic value lies inside and that a value 10% off does not (so the test can fail).
"""

from __future__ import annotations

import numpy as np

from essence.simulation.engine import run_replication
from essence.simulation.kernel import simulate_mmc
from essence.simulation.model import compile_model
from essence.simulation.queueing import (
    fork_join_mean_response,
    mmc_mean_wait,
    tandem_mean_sojourn,
)
from essence.simulation.statistics import Interval, confidence_interval
from tests.unit.simulation.factories import MINUTES_PER_DAY, step, textbook_scenario


def _replicate(scenario, metric) -> Interval:
    model = compile_model(scenario)
    values = [
        metric(run_replication(model, "coordinated", r)) for r in range(scenario.replications)
    ]
    return confidence_interval(values)


def _assert_validates(interval: Interval, expected: float) -> None:
    assert interval.n >= 20
    assert interval.contains(expected), (
        f"{expected:.4f} not in [{interval.low:.4f}, {interval.high:.4f}]"
    )
    assert not interval.contains(expected * 1.1), "CI too wide to detect a 10% error"
    assert not interval.contains(expected * 0.9), "CI too wide to detect a 10% error"


def test_mmc_mean_wait_matches_erlang_c() -> None:
    lam, mu, c = 2.1, 1.0, 3
    scenario = textbook_scenario(
        [step("service", "psychologist", mu, milestone="feedback")],
        {"psychologist": c},
        lam,
        {"service": mu},
        years=12,
        replications=30,
        seed=1,
    )
    interval = _replicate(scenario, lambda r: float(r.queue_wait_days.mean()))
    _assert_validates(interval, mmc_mean_wait(lam, mu, c))


def test_tandem_jackson_mean_sojourn_is_sum_of_stations() -> None:
    lam, mu1, mu2 = 0.7, 1.0, 1.25
    scenario = textbook_scenario(
        [
            step("first", "psychologist", mu1),
            step("second", "physician", mu2, requires=["first"], milestone="feedback"),
        ],
        {"psychologist": 1, "physician": 1},
        lam,
        {"first": mu1, "second": mu2},
        years=8,
    )
    interval = _replicate(scenario, lambda r: float(r.lead_days.mean()))
    _assert_validates(interval, tandem_mean_sojourn(lam, [(mu1, 1), (mu2, 1)]))


def test_fork_join_of_two_mm1_matches_nelson_tantawi() -> None:
    lam, mu = 0.5, 1.0
    join_minutes = 1.0
    scenario = textbook_scenario(
        [
            step("left", "psychologist", mu),
            step("right", "physician", mu),
            step("join", "coordinator", requires=["left", "right"], milestone="feedback"),
        ],
        {"psychologist": 1, "physician": 1, "coordinator": 50},
        lam,
        {"left": mu, "right": mu},
        years=6,
        fixed={"join": join_minutes},
    )
    interval = _replicate(
        scenario, lambda r: float(r.lead_days.mean()) - join_minutes / MINUTES_PER_DAY
    )
    _assert_validates(interval, fork_join_mean_response(lam, mu))


def test_every_child_completes_in_a_stable_textbook_run() -> None:
    scenario = textbook_scenario(
        [step("service", "psychologist", 1.0, milestone="feedback")],
        {"psychologist": 1},
        0.5,
        {"service": 1.0},
        replications=2,
    )
    result = run_replication(compile_model(scenario), "coordinated", 0)
    assert result.completed.all()
    assert np.all(result.lead_days > 0)


def test_specialised_mmc_kernel_matches_erlang_c() -> None:
    lam, mu, c = 2.1, 1.0, 3
    values = [
        simulate_mmc(lam, mu, c, 20_000, np.random.default_rng(seed), warmup=500).mean_wait
        for seed in range(20)
    ]
    _assert_validates(confidence_interval(values), mmc_mean_wait(lam, mu, c))
