"""Run the scheduling core on all 480 PSPLIB j30 instances and record the figures.

Usage: python benchmarks/psplib_j30.py [--budget-s 1] [--workers 2] [--limit N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

from essence.domain.errors import EssenceError
from essence.services.benchmarking import BenchmarkSummary, InstanceRow, run_psplib_benchmark

REPO = Path(__file__).resolve().parent.parent
PSPLIB = REPO.parent / "shared" / "benchmarks" / "psplib"


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; default paths are relative to this repository checkout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=PSPLIB / "j30", help="folder of .sm files")
    parser.add_argument("--solutions", type=Path, default=PSPLIB / "j30hrs.sm")
    parser.add_argument("--budget-s", type=float, default=1.0, help="CP-SAT s per instance")
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--limit", type=int, default=None, help="first N instances only")
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks" / "results" / "psplib_j30.json"
    )
    return parser.parse_args(argv)


def _progress(done: int, total: int, row: InstanceRow | None) -> None:
    if row is not None and (done % 40 == 0 or done == total):
        print(f"  {done}/{total} instances done", file=sys.stderr, flush=True)


def describe(summary: BenchmarkSummary, workload: str) -> str:
    """One line of figures with units and workload, e.g. for the README or a PR."""
    mean = summary.mean_deviation_pct
    largest = summary.max_deviation_pct
    return (
        f"{workload}: {summary.optimal}/{summary.instances} optimal, "
        f"{summary.infeasible} infeasible (failures), "
        f"mean deviation {mean if mean is not None else float('nan'):.3f} %, "
        f"max deviation {largest if largest is not None else float('nan'):.2f} %, "
        f"total {summary.total_seconds:.1f} s ({summary.mean_seconds * 1000:.0f} ms/instance)"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the CP-SAT and greedy figures, write the JSON document."""
    options = parse_arguments(argv)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    try:
        report = run_psplib_benchmark(
            options.dir,
            options.solutions,
            options.budget_s,
            options.workers,
            _progress,
            limit=options.limit,
            seed=options.seed,
        )
    except EssenceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    cp_sat = f"CP-SAT, {options.budget_s:g} s budget/instance, {options.workers} workers"
    print(describe(report.summary, cp_sat + " (incl. greedy warm start)"))
    print(describe(report.greedy_summary, "Greedy alone (serial SGS + justification)"))
    load_after = os.getloadavg()[0]
    print(
        f"Wall time of the whole run: {elapsed:.1f} s ({os.cpu_count()} CPUs, 1-min load "
        f"average {load_before:.1f} before, {load_after:.1f} after)"
    )
    document = report.to_dict() | {
        "run": {
            "budget_s": options.budget_s,
            "workers": options.workers,
            "seed": options.seed,
            "wall_seconds": round(elapsed, 1),
            "python": platform.python_version(),
            "ortools": version("ortools"),
            "cpu_count": os.cpu_count(),
            "load_average_1min": [round(load_before, 2), round(load_after, 2)],
        }
    }
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(document, indent=1) + "\n")
    print(f"Wrote {options.out.name} ({len(report.rows)} instances)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
