"""Speed of the capacity simulator: events per second against SimPy, wall time, peak memory.

Run: python benchmarks/sim_speed.py [--quick] [--workers 2] [--output PATH]
Prints every figure with its unit and workload and writes them as JSON
(default: results/sim_speed.json next to this script).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np

LAMBDA, MU, SERVERS = 2.7, 1.0, 3  # per day; rho = 0.9


def _simpy_mmc(customers: int, seed: int) -> tuple[float, float]:
    """M/M/c in SimPy (Resource + one process per customer); returns (mean wait, seconds)."""
    import simpy

    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1 / LAMBDA, customers).tolist()
    services = rng.exponential(1 / MU, customers).tolist()
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=SERVERS)
    waits: list[float] = []

    def customer(i: int):
        arrived = env.now
        with desk.request() as request:
            yield request
            waits.append(env.now - arrived)
            yield env.timeout(services[i])

    def source():
        for i in range(customers):
            yield env.timeout(gaps[i])
            env.process(customer(i))

    env.process(source())
    started = time.perf_counter()
    env.run()
    return float(np.mean(waits)), time.perf_counter() - started


def _kernel_mmc(customers: int, seed: int) -> tuple[float, float]:
    from essence.simulation.kernel import simulate_mmc

    started = time.perf_counter()
    run = simulate_mmc(LAMBDA, MU, SERVERS, customers, np.random.default_rng(seed))
    return run.mean_wait, time.perf_counter() - started


def _engine_mmc(customers: int, seed: int) -> tuple[float, float, int]:
    """The same queue through the full pathway engine (one-step pathway, no calendar)."""
    from essence.simulation.engine import run_replication
    from essence.simulation.model import compile_model
    from essence.simulation.scenario import parse_scenario

    days = customers / LAMBDA
    scenario = parse_scenario(
        {
            "children_per_year": LAMBDA * 365.25, "years": days / 365.25, "warmup_days": 0,
            "seed": seed, "no_show_rate": 0,
            "pathway": {"name": "mmc", "version": 1, "steps": [
                {"key": "service", "title": "service", "professions": ["psychologist"],
                 "minutes": 1440, "milestone": "feedback"}]},
            "step_durations": {"service": {"kind": "exponential", "mean_minutes": 1440 / MU}},
            "referrals": {"seasonality": 0, "municipalities": [
                {"name": "Umeå", "population": 1, "km_to_umea": 0, "group": "umea"}]},
            "calendar": {"enabled": False},
            "teams": [{"base": "Umeå", "staff": {"psychologist": SERVERS}}],
            "policies": {"coordinated": {"bundle": False, "booking_days": 0}},
        }
    )  # fmt: skip
    model = compile_model(scenario)
    started = time.perf_counter()
    result = run_replication(model, "coordinated", 0)
    return float(result.queue_wait_days.mean()), time.perf_counter() - started, result.events


def bench_mmc(customers: int) -> dict:
    """Events per second on the same M/M/c model: our kernel, our pathway engine, SimPy."""
    from essence.simulation.queueing import mmc_mean_wait

    events = 2 * customers  # one arrival and one departure per customer, for all three
    kernel_wait, kernel_s = _kernel_mmc(customers, 1)
    engine_wait, engine_s, engine_events = _engine_mmc(customers, 1)
    simpy_wait, simpy_s = _simpy_mmc(customers, 1)
    workload = f"M/M/{SERVERS}, lambda={LAMBDA}/day, mu={MU}/day, rho=0.9, {customers} customers"
    return {
        "workload": workload,
        "erlang_c_mean_wait_days": mmc_mean_wait(LAMBDA, MU, SERVERS),
        "kernel": _speed(kernel_s, events, kernel_wait),
        "pathway_engine": _speed(engine_s, engine_events, engine_wait),
        "simpy": _speed(simpy_s, events, simpy_wait),
        "ratio_kernel_to_simpy": simpy_s / kernel_s,
        "ratio_pathway_engine_to_simpy": (engine_events / engine_s) / (events / simpy_s),
    }


def _speed(seconds: float, events: int, mean_wait_days: float) -> dict:
    return {
        "seconds": seconds,
        "events": events,
        "events_per_second": events / seconds,
        "mean_wait_days": mean_wait_days,
    }


def _replication_peak_mb() -> float:
    """Peak Python allocations (tracemalloc) of one 3-year replication, both policies, in MB."""
    import tracemalloc

    from essence.services.capacity import load_scenario, run_results

    scenario = load_scenario(overrides={"replications": 1})
    tracemalloc.start()
    run_results(scenario)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def bench_pathway(replications: int, workers: int) -> dict:
    """Wall time of the default pathway: one year of 300 children, and many replications."""
    from essence.services.capacity import load_scenario, run_results

    one_year = load_scenario(
        overrides={"years": 1, "warmup_days": 0, "replications": 1}, policies=["coordinated"]
    )
    started = time.perf_counter()
    results = run_results(one_year)
    one_year_s = time.perf_counter() - started
    figures = {
        "one_year_300_children_coordinated_seconds": one_year_s,
        "one_year_events": results["coordinated"][0].events,
    }
    for policies in (["coordinated"], ["sequential", "coordinated"]):
        scenario = load_scenario(overrides={"replications": replications}, policies=policies)
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        run = run_results(scenario, workers=workers)
        wall = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
        key = "_".join(policies)
        figures[f"replications_{key}"] = {
            "workload": f"{replications} replications x 3 years (+180 days warm-up, cool-down "
            f"until the cohort is complete), 300 children/year, policies {', '.join(policies)}",
            "workers": workers,
            "seconds": wall,
            "cpu_seconds": cpu,
            "events": sum(r.events for rs in run.values() for r in rs),
        }
    return figures


def _machine() -> dict:
    """Python, CPUs and the load average before the run (other work slows the figures)."""
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_1min_before": os.getloadavg()[0],
    }


def main() -> None:
    """Run the benchmark, print the figures and write the JSON file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="Small workloads (a smoke test).")
    parser.add_argument("--workers", type=int, default=2, help="Processes for replications.")
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).parent / "results" / "sim_speed.json"
    )
    args = parser.parse_args()
    customers, replications = (20_000, 4) if args.quick else (200_000, 100)
    figures = {"machine": _machine()}
    figures["mmc"] = bench_mmc(customers)
    figures["pathway"] = bench_pathway(replications, args.workers)
    figures["peak_memory_mb"] = {
        "main_process_max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "one_replication_python_peak": _replication_peak_mb(),
    }
    figures["machine"]["load_average_1min_after"] = os.getloadavg()[0]
    _print(figures)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(f"written: {args.output}")


def _print(figures: dict) -> None:
    machine = figures["machine"]
    print(
        f"machine: Python {machine['python']}, {machine['cpus']} CPUs, load average "
        f"{machine['load_average_1min_before']:.1f} before / "
        f"{machine['load_average_1min_after']:.1f} after"
    )
    mmc = figures["mmc"]
    erlang = mmc["erlang_c_mean_wait_days"]
    print(f"M/M/c workload: {mmc['workload']}; Erlang C mean wait {erlang:.3f} days")
    for name in ("kernel", "pathway_engine", "simpy"):
        row = mmc[name]
        print(
            f"  {name:15s} {row['events_per_second']:>12,.0f} events/s  {row['seconds']:7.3f} s"
            f"  mean wait {row['mean_wait_days']:.3f} days"
        )
    print(
        f"  speed-up vs SimPy: kernel {mmc['ratio_kernel_to_simpy']:.1f}x, "
        f"pathway engine {mmc['ratio_pathway_engine_to_simpy']:.1f}x"
    )
    path = figures["pathway"]
    seconds = path["one_year_300_children_coordinated_seconds"]
    print(
        "one simulated year, 300 children, full pathway (coordinated, 1 replication): "
        f"{seconds:.3f} s, {path['one_year_events']:,} events"
    )
    for key, row in path.items():
        if key.startswith("replications_"):
            print(
                f"{row['workload']}: {row['seconds']:.1f} s wall on {row['workers']} workers, "
                f"{row['cpu_seconds']:.1f} s CPU ({row['events']:,} events)"
            )
    memory = figures["peak_memory_mb"]
    print(
        f"peak memory: main process max RSS {memory['main_process_max_rss']:.0f} MB (whole "
        f"benchmark incl. SimPy); one 3-year replication of both policies "
        f"{memory['one_replication_python_peak']:.1f} MB of Python allocations (tracemalloc)"
    )


if __name__ == "__main__":
    main()
