"""Run chunks of replications: the unit of work for process pools, Prefect tasks and Dask.

A chunk is (scenario as JSON, policy, replication indices); its results depend only on those,
so any split over workers gives the same figures as one sequential run.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from essence.simulation.engine import run_replication
from essence.simulation.model import Model, compile_model
from essence.simulation.results import ReplicationResult
from essence.simulation.scenario import Scenario


@lru_cache(maxsize=8)
def model_for(scenario_json: str) -> Model:
    """The compiled model of a scenario given as JSON (cached per process)."""
    return compile_model(Scenario.model_validate_json(scenario_json))


def run_chunk(
    scenario_json: str, policy: str, replications: Sequence[int]
) -> list[ReplicationResult]:
    """Simulate the given replications of one policy.

    Args:
        scenario_json: ``Scenario.model_dump_json()`` of a validated scenario.
        policy: A key of the scenario's policies.
        replications: Replication indices (each has its own seeded streams).
    """
    model = model_for(scenario_json)
    return [run_replication(model, policy, r) for r in replications]


def chunks(
    policies: Sequence[str], replications: int, chunk_size: int
) -> list[tuple[str, tuple[int, ...]]]:
    """Split (policy, replication) work into chunks of at most `chunk_size` replications."""
    size = max(1, chunk_size)
    return [
        (policy, tuple(range(first, min(first + size, replications))))
        for policy in policies
        for first in range(0, replications, size)
    ]
