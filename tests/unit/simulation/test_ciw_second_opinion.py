"""A second opinion: the tandem network simulated with the ciw library agrees with ours.

Both give a 95% CI of the mean sojourn over 20 replications; the difference of the means
must lie within the combined half-widths.
"""

from __future__ import annotations

import math

import ciw
import pytest

from essence.simulation.engine import run_replication
from essence.simulation.model import compile_model
from essence.simulation.statistics import Interval, confidence_interval
from tests.unit.simulation.factories import step, textbook_scenario

LAM, MU1, MU2 = 0.7, 1.0, 1.25
WARMUP_DAYS, YEARS, REPLICATIONS = 60.0, 8.0, 20


def _ciw_mean_sojourn(replication: int) -> float:
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=LAM), None],
        service_distributions=[ciw.dists.Exponential(rate=MU1), ciw.dists.Exponential(rate=MU2)],
        routing=[[0.0, 1.0], [0.0, 0.0]],
        number_of_servers=[1, 1],
    )
    ciw.seed(1000 + replication)
    simulation = ciw.Simulation(network)
    end = WARMUP_DAYS + YEARS * 365.25
    simulation.simulate_until_max_time(end + 60)
    arrived: dict[int, float] = {}
    left: dict[int, float] = {}
    for record in simulation.get_all_records():
        if record.node == 1:
            arrived[record.id_number] = record.arrival_date
        elif record.node == 2:
            left[record.id_number] = record.exit_date
    sojourns = [left[i] - t for i, t in arrived.items() if WARMUP_DAYS <= t < end and i in left]
    return sum(sojourns) / len(sojourns)


def _ours() -> Interval:
    scenario = textbook_scenario(
        [
            step("first", "psychologist", MU1),
            step("second", "physician", MU2, requires=["first"], milestone="feedback"),
        ],
        {"psychologist": 1, "physician": 1},
        LAM,
        {"first": MU1, "second": MU2},
        years=YEARS,
        warmup_days=WARMUP_DAYS,
        replications=REPLICATIONS,
        seed=3,
    )
    model = compile_model(scenario)
    return confidence_interval(
        [
            float(run_replication(model, "coordinated", r).lead_days.mean())
            for r in range(REPLICATIONS)
        ]
    )


@pytest.mark.slow
def test_tandem_network_agrees_with_ciw() -> None:
    ours = _ours()
    theirs = confidence_interval([_ciw_mean_sojourn(r) for r in range(REPLICATIONS)])
    combined = math.hypot(ours.high - ours.mean, theirs.high - theirs.mean)
    assert abs(ours.mean - theirs.mean) <= combined, (ours, theirs)
    assert combined < 0.1 * theirs.mean, "CIs too wide for a meaningful comparison"
