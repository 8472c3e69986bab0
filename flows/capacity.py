"""Capacity sweeps as a Prefect flow: one task per chunk of replications, run in parallel.

Locally the tasks run in a process pool; with a Dask address they run on that cluster through
prefect-dask. Chunks are seeded by replication index, so figures equal a sequential run's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.futures import as_completed

from essence.services.capacity import (
    SimulationReport,
    load_scenario,
    plan_chunks,
    report_from_chunks,
    require_replications_for_ci,
    simulate_chunk,
)


@task(name="simulate-chunk")
def simulate_chunk_task(scenario_json: str, policy: str, replications: tuple[int, ...]) -> list:
    """Simulate one chunk of replications of one policy (plain, picklable results)."""
    return simulate_chunk(scenario_json, policy, replications)


@flow(name="capacity-sweep", log_prints=False)
def capacity_sweep_flow(
    scenarios: list[dict[str, Any]] | None = None, chunk_size: int = 5
) -> list[SimulationReport]:
    """Simulate each scenario (overrides of the default scenario) and report each.

    Args:
        scenarios: Scenario settings per entry (missing keys come from the default scenario).
        chunk_size: Replications per task.
    """
    chosen = [load_scenario(overrides=data) for data in (scenarios or [{}])]
    for scenario in chosen:
        require_replications_for_ci(scenario)
    work = [
        (i, s.model_dump_json(), chunk)
        for i, s in enumerate(chosen)
        for chunk in plan_chunks(s, chunk_size)
    ]
    progress = create_progress_artifact(0.0, key="capacity-sweep", description="chunks done (%)")
    started = time.perf_counter()
    futures = {}
    for index, payload, (policy, reps) in work:
        futures[simulate_chunk_task.submit(payload, policy, reps)] = index
    by_scenario: list[list[list]] = [[] for _ in chosen]
    for done, future in enumerate(as_completed(list(futures)), start=1):
        by_scenario[futures[future]].append(future.result())
        update_progress_artifact(progress, 100.0 * done / len(work))
    wall = time.perf_counter() - started
    return [
        report_from_chunks(s, chunks, wall) for s, chunks in zip(chosen, by_scenario, strict=True)
    ]


def run_capacity_sweep(
    scenarios: list[dict[str, Any]] | None = None,
    chunk_size: int = 5,
    workers: int = 2,
    dask_address: str | None = None,
) -> list[SimulationReport]:
    """Run the sweep on a local process pool, or on the Dask cluster at `dask_address`."""
    if dask_address:
        from prefect_dask import DaskTaskRunner

        runner = DaskTaskRunner(address=dask_address)
    else:
        from prefect.task_runners import ProcessPoolTaskRunner

        runner = ProcessPoolTaskRunner(max_workers=workers)
    return capacity_sweep_flow.with_options(task_runner=runner)(scenarios, chunk_size)


def main(argv: list[str] | None = None) -> None:
    """``python -m flows.capacity [SCENARIO.yaml ...] [--dask-address tcp://HOST:PORT]``."""
    import argparse
    import json

    import yaml

    parser = argparse.ArgumentParser(description="Run a capacity sweep as a Prefect flow.")
    parser.add_argument("scenarios", nargs="*", help="Scenario YAML files (default: the default).")
    parser.add_argument("--chunk-size", type=int, default=5, help="Replications per task.")
    parser.add_argument("--workers", type=int, default=2, help="Local processes (no Dask).")
    parser.add_argument("--dask-address", help="Run the tasks on this Dask scheduler.")
    args = parser.parse_args(argv)
    scenarios = [
        yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {} for path in args.scenarios
    ]
    reports = run_capacity_sweep(
        scenarios or None, args.chunk_size, args.workers, args.dask_address
    )
    print(json.dumps([r.model_dump(mode="json") for r in reports], indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
