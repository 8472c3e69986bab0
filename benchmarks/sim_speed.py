"""Speed and correctness of the pathway engine against SimPy, on the same queueing workloads.

Run: python benchmarks/sim_speed.py [--quick] [--workers 2] [--output PATH]

1. M/M/3 (rho 0.9) and a fork/join of two M/M/1 branches, each simulated by the pathway engine
   (the engine `essence simulate` runs, through a one- or three-step pathway scenario) and by
   SimPy, replication by replication back to back (so both see the same machine load). Speed is
   customers (and events) per second of wall time and of CPU time.
2. Every simulated mean wait is checked against its closed form (Erlang C; Nelson–Tantawi)
   with a 95% Student-t confidence interval over independent replications (fixed seeds, warm-up
   discarded); the script exits with status 1 when a closed form lies outside its interval.
3. The default scenario: one simulated year of 300 children, and 100 replications x 3 years of
   both policies on `--workers` processes (wall and CPU seconds).

The engine's event loop is compiled with numba: the first call in a process loads it from the
compiled cache (or compiles it, once after installing or editing it). That one-time cost is
measured first, reported on its own, and kept out of the per-replication timings (SimPy's
import is kept out too); the ratios including it are printed as well.

`essence.simulation.kernel` (an FCFS recursion for M/M/c, not an event simulation: it only
works for one FCFS queue) is shown last, for reference, and not compared with the simulators.
The machine is shared: the load average before and after and the core count are recorded.
Prints every figure with its unit and workload and writes them as JSON
(default: results/sim_speed.json next to this script).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

LAMBDA, MU, SERVERS = 2.7, 1.0, 3  # M/M/3 per day; rho = 0.9
FJ_LAMBDA, FJ_MU = 0.5, 1.0  # fork/join of two M/M/1 branches per day; rho = 0.5
JOIN_MINUTES = 1.0  # the engine's join step (a coordinator, 1 fixed minute)
MINUTES_PER_DAY = 1440.0


# --- the two simulators on the same workloads ------------------------------------------------


def _engine_scenario(steps: list[dict], staff: dict, rate: float, days: float, warmup: float,
                     seed: int, durations: dict) -> dict:  # fmt: skip
    """A continuous-time pathway scenario: Poisson arrivals, no calendars, no travel."""
    return {
        "children_per_year": rate * 365.25, "years": days / 365.25, "warmup_days": warmup,
        "replications": 2, "seed": seed, "no_show_rate": 0,
        "pathway": {"name": "bench", "version": 1, "steps": steps},
        "step_durations": durations,
        "referrals": {"seasonality": 0, "municipalities": [
            {"name": "Umeå", "population": 1, "km_to_umea": 0, "group": "umea"}]},
        "calendar": {"enabled": False, "continuous_minutes_per_day": MINUTES_PER_DAY},
        "setup": {"kind": "central", "no_show_per_100km": 0},
        "teams": [{"base": "Umeå", "staff": staff}],
        "policies": {"coordinated": {"parallel": True, "bundle": False, "booking_days": 0}},
    }  # fmt: skip


def mmc_scenario(days: float, warmup: float, seed: int) -> dict:
    """M/M/3 as a one-step pathway: exponential service of mean 1/MU days by 3 psychologists."""
    step = {"key": "service", "title": "service", "professions": ["psychologist"],
            "minutes": 1440, "milestone": "feedback"}  # fmt: skip
    durations = {"service": {"kind": "exponential", "mean_minutes": MINUTES_PER_DAY / MU}}
    return _engine_scenario([step], {"psychologist": SERVERS}, LAMBDA, days, warmup, seed,
                            durations)  # fmt: skip


def fork_join_scenario(days: float, warmup: float, seed: int) -> dict:
    """Two exponential M/M/1 branches in parallel, joined by a 1-minute coordinator step."""
    steps = [
        {"key": "left", "title": "left", "professions": ["psychologist"], "minutes": 1440},
        {"key": "right", "title": "right", "professions": ["physician"], "minutes": 1440},
        {"key": "join", "title": "join", "professions": ["coordinator"], "minutes": 1,
         "requires": ["left", "right"], "milestone": "feedback"},
    ]  # fmt: skip
    durations = {
        "left": {"kind": "exponential", "mean_minutes": MINUTES_PER_DAY / FJ_MU},
        "right": {"kind": "exponential", "mean_minutes": MINUTES_PER_DAY / FJ_MU},
        "join": {"kind": "fixed", "mean_minutes": JOIN_MINUTES},
    }
    staff = {"psychologist": 1, "physician": 1, "coordinator": 50}
    return _engine_scenario(steps, staff, FJ_LAMBDA, days, warmup, seed, durations)


def jit_first_call() -> dict:
    """Import the engine and run one tiny replication in this process: the one-time cost of
    loading (or, with a cold cache, compiling) the compiled event loop, in seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    from essence.simulation.engine import run_replication
    from essence.simulation.model import compile_model
    from essence.simulation.scenario import parse_scenario

    imported = time.perf_counter() - wall
    run_replication(compile_model(parse_scenario(mmc_scenario(10.0, 0.0, 1))), "coordinated", 0)
    return {
        "what": "import essence.simulation.engine (numba) and the first replication in the "
        "process (load the compiled loop from its cache; compile it when the cache is cold)",
        "import_s": imported,
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
    }


def engine_run(scenario_data: dict, metric: Callable) -> dict:
    """One replication through the pathway engine: the metric, events, wall and CPU seconds."""
    from essence.simulation.engine import run_replication
    from essence.simulation.model import compile_model
    from essence.simulation.scenario import parse_scenario

    model = compile_model(parse_scenario(scenario_data))
    wall, cpu = time.perf_counter(), time.process_time()
    result = run_replication(model, "coordinated", 0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"value": metric(result), "customers": int(result.completed.size),
            "events": result.events, "wall_s": wall, "cpu_s": cpu}  # fmt: skip


def _arrive_and_run(env, gaps: list[float], end: float, customer: Callable) -> tuple[float, float]:
    """Start `customer(i)` after each inter-arrival gap until `end`, run SimPy to the last
    departure; returns (wall seconds, CPU seconds) of the run."""

    def source():
        for i, gap in enumerate(gaps):
            yield env.timeout(gap)
            if env.now >= end:
                return
            env.process(customer(i))

    env.process(source())
    wall, cpu = time.perf_counter(), time.process_time()
    env.run()
    return time.perf_counter() - wall, time.process_time() - cpu


def simpy_mmc(days: float, warmup: float, seed: int) -> dict:
    """M/M/3 in SimPy (Resource + one process per customer): mean wait of those arriving in
    [warmup, days + warmup), run until they are all served."""
    import simpy

    rng = np.random.default_rng(seed)
    end = warmup + days
    gaps = rng.exponential(1 / LAMBDA, int(LAMBDA * end * 1.2) + 100).tolist()
    services = rng.exponential(1 / MU, len(gaps)).tolist()
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=SERVERS)
    waits: list[float] = []
    counted = [0]

    def customer(i: int):
        arrived = env.now
        with desk.request() as request:
            yield request
            if arrived >= warmup:
                waits.append(env.now - arrived)
            yield env.timeout(services[i])
        counted[0] += 1

    wall, cpu = _arrive_and_run(env, gaps, end, customer)
    return {"value": float(np.mean(waits)), "customers": len(waits),
            "events": 2 * counted[0], "wall_s": wall, "cpu_s": cpu}  # fmt: skip


def simpy_fork_join(days: float, warmup: float, seed: int) -> dict:
    """Fork/join in SimPy: each customer forks into two M/M/1 branches and leaves when both
    are done; mean response of those arriving in [warmup, days + warmup)."""
    import simpy

    rng = np.random.default_rng(seed)
    end = warmup + days
    gaps = rng.exponential(1 / FJ_LAMBDA, int(FJ_LAMBDA * end * 1.2) + 100).tolist()
    left_s = rng.exponential(1 / FJ_MU, len(gaps)).tolist()
    right_s = rng.exponential(1 / FJ_MU, len(gaps)).tolist()
    env = simpy.Environment()
    left, right = simpy.Resource(env, capacity=1), simpy.Resource(env, capacity=1)
    responses: list[float] = []
    counted = [0]

    def branch(resource, service: float):
        with resource.request() as request:
            yield request
            yield env.timeout(service)

    def customer(i: int):
        arrived = env.now
        yield env.all_of([env.process(branch(left, left_s[i])),
                          env.process(branch(right, right_s[i]))])  # fmt: skip
        if arrived >= warmup:
            responses.append(env.now - arrived)
        counted[0] += 1

    wall, cpu = _arrive_and_run(env, gaps, end, customer)
    return {"value": float(np.mean(responses)), "customers": len(responses),
            "events": 3 * counted[0], "wall_s": wall, "cpu_s": cpu}  # fmt: skip


def compare(name: str, workload: str, closed_form: float, replications: int,
            engine: Callable[[int], dict], simpy: Callable[[int], dict]) -> dict:  # fmt: skip
    """Run both simulators replication by replication (back to back), then check each mean
    against the closed form with its 95% CI over replications."""
    from essence.simulation.statistics import confidence_interval

    runs: dict[str, list[dict]] = {"pathway_engine": [], "simpy": []}
    for r in range(replications):
        runs["pathway_engine"].append(engine(1000 + r))
        runs["simpy"].append(simpy(1000 + r))
    figures: dict = {"workload": workload, "closed_form_days": closed_form}
    figures["replications"] = replications
    for who, rows in runs.items():
        ci = confidence_interval([row["value"] for row in rows])
        wall, cpu = sum(row["wall_s"] for row in rows), sum(row["cpu_s"] for row in rows)
        customers = sum(row["customers"] for row in rows)
        events = sum(row["events"] for row in rows)
        figures[who] = {
            "mean_days": ci.mean, "ci95_low_days": ci.low, "ci95_high_days": ci.high,
            "closed_form_inside_ci": bool(ci.contains(closed_form)),
            "customers_scored": customers, "events": events,
            "wall_s": wall, "cpu_s": cpu,
            "events_per_s": events / wall, "events_per_cpu_s": events / cpu,
            "customers_per_s": customers / wall,
        }  # fmt: skip
    ours, theirs = figures["pathway_engine"], figures["simpy"]
    figures["speed_ratio_wall"] = (
        theirs["wall_s"] / ours["wall_s"] * (ours["customers_scored"] / theirs["customers_scored"])
    )
    figures["speed_ratio_cpu"] = (
        theirs["cpu_s"] / ours["cpu_s"] * (ours["customers_scored"] / theirs["customers_scored"])
    )
    figures["events_per_s_ratio"] = ours["events_per_s"] / theirs["events_per_s"]
    figures["name"] = name
    return figures


def with_jit_load(figures: dict, jit: dict) -> dict:
    """The wall-time ratio and events/s counting the engine's one-time JIT load as well."""
    ours, theirs = figures["pathway_engine"], figures["simpy"]
    wall = ours["wall_s"] + jit["wall_s"]
    figures["speed_ratio_wall_incl_jit_load"] = (
        theirs["wall_s"] / wall * (ours["customers_scored"] / theirs["customers_scored"])
    )
    figures["events_per_s_ratio_incl_jit_load"] = ours["events"] / wall / theirs["events_per_s"]
    return figures


def _mean_wait(result) -> float:
    """Mean days in queue of the scored children (one-step pathway: the M/M/c wait)."""
    return float(result.queue_wait_days.mean())


def _response(result) -> float:
    """Mean days from referral to the join, minus the join step's own minute."""
    return float(result.lead_days.mean()) - JOIN_MINUTES / MINUTES_PER_DAY


def bench_queues(quick: bool, jit: dict) -> dict:
    """M/M/3 and fork/join: both simulators, same workloads, checked against closed forms."""
    from essence.simulation.queueing import fork_join_mean_response, mmc_mean_wait

    reps, mmc_days, fj_days = (5, 2_000.0, 4_000.0) if quick else (20, 10_000.0, 20_000.0)
    warmup = 200.0
    mmc = compare(
        "M/M/3 mean wait in queue",
        f"M/M/{SERVERS}, lambda={LAMBDA}/day, mu={MU}/day, rho=0.9, {mmc_days:,.0f} days "
        f"(~{LAMBDA * mmc_days:,.0f} customers) after {warmup:.0f} warm-up days, per replication",
        mmc_mean_wait(LAMBDA, MU, SERVERS),
        reps,
        lambda seed: engine_run(mmc_scenario(mmc_days, warmup, seed), _mean_wait),
        lambda seed: simpy_mmc(mmc_days, warmup, seed),
    )
    fork_join = compare(
        "fork/join mean response",
        f"fork/join of two M/M/1, lambda={FJ_LAMBDA}/day, mu={FJ_MU}/day, rho=0.5, "
        f"{fj_days:,.0f} days (~{FJ_LAMBDA * fj_days:,.0f} customers) after {warmup:.0f} "
        "warm-up days, per replication (engine: minus its 1-minute join step)",
        fork_join_mean_response(FJ_LAMBDA, FJ_MU),
        reps,
        lambda seed: engine_run(fork_join_scenario(fj_days, warmup, seed), _response),
        lambda seed: simpy_fork_join(fj_days, warmup, seed),
    )
    return {"mmc": with_jit_load(mmc, jit), "fork_join": with_jit_load(fork_join, jit)}


# --- the default scenario ---------------------------------------------------------------------


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def bench_pathway(replications: int, workers: int) -> dict:
    """The default pathway: one year of 300 children (engine only, set-up excluded, and end to
    end), then `replications` x 3 years of both policies on `workers` processes."""
    from essence.services.capacity import load_scenario, run_results
    from essence.simulation.engine import Engine
    from essence.simulation.runner import model_for

    one_year = load_scenario(
        overrides={"years": 1, "warmup_days": 0, "replications": 1}, policies=["coordinated"]
    )
    started = time.perf_counter()
    results = run_results(one_year)  # first run in this process: holiday tables, model
    end_to_end = time.perf_counter() - started
    model = model_for(one_year.model_dump_json())
    loop_wall, loop_cpu, events = [], [], 0
    for r in range(5):
        engine = Engine(model, "coordinated", r)
        wall, cpu = time.perf_counter(), time.process_time()
        engine.run()
        loop_wall.append(time.perf_counter() - wall)
        loop_cpu.append(time.process_time() - cpu)
        events += engine.events
    figures = {
        "one_year": {
            "workload": "default scenario, 1 year of 300 children, no warm-up, coordinated, "
            "cool-down until the cohort is complete",
            "end_to_end_first_run_s": end_to_end,
            "end_to_end_events": results["coordinated"][0].events,
            "engine_runs": 5,
            "engine_events": events,
            "engine_wall_s": sum(loop_wall),
            "engine_cpu_s": sum(loop_cpu),
            "engine_events_per_s": events / sum(loop_wall),
            "engine_events_per_cpu_s": events / sum(loop_cpu),
        }
    }
    scenario = load_scenario(
        overrides={"replications": replications}, policies=["sequential", "coordinated"]
    )
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    run = run_results(scenario, workers=workers)
    wall = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    figures["replications"] = {
        "workload": f"{replications} replications x 3 years (+180 days warm-up, cool-down "
        "until the cohort is complete), 300 children/year, policies sequential and coordinated",
        "workers": workers,
        "wall_s": wall,
        "cpu_s": cpu,
        "events": sum(r.events for rs in run.values() for r in rs),
    }
    return figures


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


def bench_recursion(customers: int) -> dict:
    """The FCFS recursion of essence.simulation.kernel (not a simulator), for reference."""
    from essence.simulation.kernel import simulate_mmc

    wall = time.perf_counter()
    run = simulate_mmc(LAMBDA, MU, SERVERS, customers, np.random.default_rng(1), warmup=2000)
    wall = time.perf_counter() - wall
    return {
        "workload": f"M/M/{SERVERS} rho=0.9, {customers:,} customers, one run",
        "what": "FCFS recursion (start = max(arrival, earliest free server)); no event list, "
        "only valid for a single FCFS queue; not a simulator",
        "wall_s": wall,
        "customers_per_s": customers / wall,
        "mean_wait_days": run.mean_wait,
    }


# --- output -----------------------------------------------------------------------------------


def _machine() -> dict:
    """Python, cores and the load average before the run (other work slows the figures)."""
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_before": list(os.getloadavg()),
    }


def main() -> int:
    """Run the benchmark, print the figures, write the JSON; 1 if a closed form is missed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="Small workloads (a smoke test).")
    parser.add_argument("--workers", type=int, default=2, help="Processes for replications.")
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).parent / "results" / "sim_speed.json"
    )
    args = parser.parse_args()
    figures: dict = {"machine": _machine()}
    figures["jit_first_call"] = jit_first_call()
    figures["queues"] = bench_queues(args.quick, figures["jit_first_call"])
    figures["pathway"] = bench_pathway(4 if args.quick else 100, args.workers)
    figures["recursion"] = bench_recursion(20_000 if args.quick else 200_000)
    figures["peak_memory_mb"] = {
        "main_process_max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "one_replication_python_peak": _replication_peak_mb(),
    }
    figures["machine"]["load_average_after"] = list(os.getloadavg())
    failed = [
        f"{q['name']} ({who})"
        for q in figures["queues"].values()
        for who in ("pathway_engine", "simpy")
        if not q[who]["closed_form_inside_ci"]
    ]
    figures["validation_failures"] = failed
    _print(figures)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(f"written: {args.output}")
    if failed:
        print("FAILED: closed form outside the 95% CI for " + "; ".join(failed))
        return 1
    return 0


def _print(figures: dict) -> None:
    machine = figures["machine"]
    before, after = machine["load_average_before"], machine["load_average_after"]
    print(
        f"machine: Python {machine['python']}, {machine['cpus']} cores, load average (1/5/15 min) "
        f"{before[0]:.1f}/{before[1]:.1f}/{before[2]:.1f} before, "
        f"{after[0]:.1f}/{after[1]:.1f}/{after[2]:.1f} after (shared machine: wall times are noisy)"
    )
    jit = figures["jit_first_call"]
    print(
        f"pathway engine, once per process: {jit['what']}: {jit['wall_s']:.2f} s wall "
        f"({jit['import_s']:.2f} s of it importing), {jit['cpu_s']:.2f} s CPU; "
        "not in the per-replication timings below"
    )
    for q in figures["queues"].values():
        print(f"\n{q['name']}: {q['workload']}; {q['replications']} replications")
        print(f"  closed form {q['closed_form_days']:.4f} days")
        for who in ("pathway_engine", "simpy"):
            row = q[who]
            verdict = "ok" if row["closed_form_inside_ci"] else "OUTSIDE CI"
            print(
                f"  {who:15s} mean {row['mean_days']:.4f} days, 95% CI "
                f"[{row['ci95_low_days']:.4f}, {row['ci95_high_days']:.4f}] {verdict}; "
                f"{row['events_per_s']:>10,.0f} events/s, {row['events_per_cpu_s']:>10,.0f} "
                f"events/CPU-s ({row['events']:,} events, {row['wall_s']:.2f} s wall)"
            )
        print(
            f"  pathway engine vs SimPy, same customers: {q['speed_ratio_wall']:.1f}x (wall), "
            f"{q['speed_ratio_cpu']:.1f}x (CPU); events/s ratio {q['events_per_s_ratio']:.1f}x; "
            f"counting the engine's one-time JIT load too: "
            f"{q['speed_ratio_wall_incl_jit_load']:.1f}x (wall), "
            f"events/s ratio {q['events_per_s_ratio_incl_jit_load']:.1f}x"
        )
    one = figures["pathway"]["one_year"]
    print(f"\n{one['workload']}:")
    print(
        f"  engine (set-up excluded, {one['engine_runs']} runs): "
        f"{one['engine_events_per_s']:,.0f} events/s, "
        f"{one['engine_events_per_cpu_s']:,.0f} events/CPU-s ({one['engine_events']:,} events)"
    )
    print(
        f"  end to end, first run in the process (holiday tables, model, set-up): "
        f"{one['end_to_end_first_run_s']:.3f} s for {one['end_to_end_events']:,} events"
    )
    rep = figures["pathway"]["replications"]
    print(
        f"{rep['workload']}: {rep['wall_s']:.1f} s wall on {rep['workers']} workers, "
        f"{rep['cpu_s']:.1f} s CPU ({rep['events']:,} events)"
    )
    rec = figures["recursion"]
    print(
        f"\nreference, not a simulator: {rec['what']}; {rec['workload']}: "
        f"{rec['customers_per_s']:,.0f} customers/s, mean wait {rec['mean_wait_days']:.3f} days"
    )
    memory = figures["peak_memory_mb"]
    print(
        f"peak memory: main process max RSS {memory['main_process_max_rss']:.0f} MB (whole "
        f"benchmark incl. SimPy); one 3-year replication of both policies "
        f"{memory['one_replication_python_peak']:.1f} MB of Python allocations (tracemalloc)"
    )


if __name__ == "__main__":
    sys.exit(main())
