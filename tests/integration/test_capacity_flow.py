"""The capacity sweep flow gives the same figures as the sequential run, locally and on Dask."""

from __future__ import annotations

import pytest

from essence.services.capacity import load_scenario, run_simulation

SCENARIOS = [
    {"years": 0.4, "warmup_days": 30, "replications": 4, "seed": 5},
    {"years": 0.4, "warmup_days": 30, "replications": 3, "seed": 6, "children_per_year": 200},
]
VOLATILE = {"wall_seconds", "events_per_second"}


def _figures(report) -> dict:
    return report.model_dump(mode="json", exclude=VOLATILE)


def _sequential() -> list[dict]:
    return [_figures(run_simulation(load_scenario(overrides=data))) for data in SCENARIOS]


@pytest.mark.slow
def test_flow_on_a_process_pool_matches_the_sequential_run(prefect_harness: None) -> None:
    from flows.capacity import run_capacity_sweep

    reports = run_capacity_sweep(SCENARIOS, chunk_size=2, workers=2)
    assert [_figures(r) for r in reports] == _sequential()


@pytest.mark.slow
def test_flow_on_a_local_dask_cluster_matches_the_sequential_run(prefect_harness: None) -> None:
    from distributed import LocalCluster

    from flows.capacity import run_capacity_sweep

    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        reports = run_capacity_sweep(
            SCENARIOS, chunk_size=2, dask_address=cluster.scheduler_address
        )
    assert [_figures(r) for r in reports] == _sequential()


@pytest.mark.slow
def test_essence_simulate_runs_on_dask_through_the_cli(prefect_harness: None) -> None:
    import json

    from distributed import LocalCluster
    from typer.testing import CliRunner

    from essence.cli.app import app

    args = ["simulate", "--years", "0.4", "--replications", "3", "--seed", "5", "--json"]
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        on_dask = CliRunner().invoke(app, [*args, "--dask-address", cluster.scheduler_address])
    locally = CliRunner().invoke(app, args)
    assert on_dask.exit_code == 0, on_dask.output
    assert locally.exit_code == 0, locally.output
    strip = lambda text: {k: v for k, v in json.loads(text).items() if k not in VOLATILE}  # noqa: E731
    assert strip(on_dask.stdout) == strip(locally.stdout)
