"""The digital twin at full size: `essence twin` with progress lines and a timing breakdown.

Runs the twin (300 children a year for 2 years by default, a re-plan every working day) and
the simulator beside it, printing a progress line (simulated day, wall seconds, load average)
every `--every` days on stderr, then the side-by-side tables; writes the report as JSON.
The machine may be shared: the load average is recorded with every figure.

    python benchmarks/twin.py [--children-per-year 300] [--years 2] [--seed 1]
        [--replan-every-days 5] [--budget-s 1] [--max-days N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from essence import bootstrap
from essence.cli.twin import TWIN_WARMUP_DAYS, render_twin
from essence.domain.calendar import at_local
from essence.services.capacity import load_scenario
from essence.services.demo import SimulatedClock
from essence.services.twin import TwinOptions
from essence.services.twin_study import run_twin_study

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "twin.json"


def main() -> None:
    """Parse the options, run the twin with progress lines, print and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children-per-year", type=float, default=300)
    parser.add_argument("--years", type=float, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warmup-days", type=float, default=TWIN_WARMUP_DAYS)
    parser.add_argument("--replan-every-days", type=int, default=TwinOptions.replan_every_days)
    parser.add_argument("--budget-s", type=float, default=1.0)
    parser.add_argument("--simulator-replications", type=int, default=10)
    parser.add_argument("--every", type=int, default=20, help="Progress line every N days.")
    parser.add_argument(
        "--max-days", type=int, default=None, help="Stop after N simulated days (timing runs)."
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    scenario = load_scenario(
        overrides={
            "children_per_year": args.children_per_year,
            "years": args.years,
            "seed": args.seed,
            "warmup_days": args.warmup_days,
        }
    )
    options = TwinOptions(
        replan_every_days=args.replan_every_days, budget_s=args.budget_s, max_days=args.max_days
    )
    clock = SimulatedClock(at_local(scenario.start_date, 7))
    started = time.perf_counter()

    def on_day(day: int, days: int, today: object) -> None:
        if day % args.every == 0:
            load = os.getloadavg()[0]
            print(
                f"day {day}/{days} ({today}): {time.perf_counter() - started:.0f} s wall, "
                f"load average {load:.1f}",
                file=sys.stderr,
                flush=True,
            )

    with bootstrap.scratch_context(clock) as ctx:
        report = run_twin_study(
            ctx,
            clock,
            scenario,
            options,
            simulator_replications=args.simulator_replications,
            on_day=on_day,
        )
    render_twin(report, verbose=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report.model_dump(mode="json"), indent=2), encoding="utf-8")
    print(f"JSON: {args.out}")


if __name__ == "__main__":
    main()
