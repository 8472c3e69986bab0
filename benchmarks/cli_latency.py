"""CLI latency: the common commands as whole `essence` processes on 3,000 cases.

Fills a database with ten years of referrals (300 a year; the newest still in progress),
then times `essence worklist`, `step complete`, `case list`, `case show` and `schedule show`
as fresh processes of the installed console script (median of several runs) on SQLite and,
when reachable, PostgreSQL, plus the import time of the CLI. By default the commands go
through the resident worker (`essence.cli.client`) as they do for users: a private worker
directory per run, the first command (which starts the worker) timed on its own, the worker
stopped at the end. ``--in-process`` times them with ``ESSENCE_NO_WORKER=1`` instead. CPU
figures are those of the `essence` process itself (through the worker, the command's CPU is
spent in the worker's child, which is not counted). Prints figures, writes JSON.

    python benchmarks/cli_latency.py [--cases 3000] [--runs 7] [--out FILE] [--no-postgres]
        [--in-process]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from essence import bootstrap
from essence.adapters.pathway_files import default_template
from essence.domain.calendar import at_local
from essence.domain.case import Case, Consent
from essence.domain.geography import MUNICIPALITIES
from essence.domain.personnummer import synthetic_personnummer
from essence.domain.states import StepState
from essence.services.cases import assign_automatically

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "cli_latency.json"
POSTGRES_URL = os.environ.get(
    "ESSENCE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_PROGRESS = 120  # the newest referrals are still being assessed
BATCH = 200


def fill(url: str, cases: int, seed: int = 7) -> None:
    """Create `cases` cases over ten years; older ones finished, the newest in progress."""
    bootstrap.initialise(database_url=url, demo_team=True)
    ctx = bootstrap.context(database_url=url)
    rng = np.random.default_rng(seed)
    template = default_template()
    populations = np.array([m.population for m in MUNICIPALITIES], dtype=float)
    today = date.today()
    first = today - timedelta(days=3650)
    days = sorted(int(d) for d in rng.integers(0, 3650, size=cases))
    with ctx.uow_factory() as uow:
        team = uow.clinicians.list()
        load = uow.cases.open_minutes_by_clinician()
    for start in range(0, cases, BATCH):
        with ctx.uow_factory() as uow:
            for index in range(start, min(start + BATCH, cases)):
                referral = first + timedelta(days=days[index])
                case = Case.open(
                    case_id=f"c-{index:06d}",
                    personnummer=synthetic_personnummer(referral - timedelta(days=1500), index),
                    child_name="Bench Barn",
                    municipality=MUNICIPALITIES[
                        int(rng.choice(15, p=populations / populations.sum()))
                    ].name,
                    referring_unit="BHV",
                    referral_date=referral,
                    template=template,
                    consent=Consent.given_by(2, 2, referral),
                    now=at_local(referral, 9),
                )
                assign_automatically(case, team, load)
                _progress(case, referral, rng, finish=index < cases - IN_PROGRESS)
                uow.cases.add(case)
            uow.commit()


def _progress(case: Case, referral: date, rng: np.random.Generator, finish: bool) -> None:
    """Finished cases run to the end; open ones get a random part done, leaving ready steps."""
    day = referral
    chance = 1.0 if finish else 0.25
    for _ in range(200 if finish else int(rng.integers(1, 40))):
        case.advance(day)
        for step in case.ready_steps():
            if not case.definition(step.key).is_waiting and rng.random() < chance:
                case.complete_step(step.key, at_local(day), "bench")
        if not case.state.is_open:
            return
        day += timedelta(days=1)


def ready_steps(url: str) -> list[tuple[str, str, str]]:
    """(clinician, case, step) for every ready step assigned to a single clinician."""
    ctx = bootstrap.context(database_url=url)
    found = []
    with ctx.uow_factory() as uow:
        for clinician in uow.clinicians.list():
            for item in uow.cases.worklist(clinician.id, [StepState.READY.value]):
                found.append((clinician.id, item.case_id, item.step_key))
    return found


CPU_SECONDS: list[float] = []  # CPU (user + system) of each timed process, in order


def time_process(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one `essence …` process; its CPU seconds go to CPU_SECONDS (CPU time
    hardly depends on how busy the machine is, wall time does)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_SECONDS.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


def median_cpu(count: int) -> float:
    """Median CPU seconds of the last `count` timed processes."""
    return round(statistics.median(CPU_SECONDS[-count:]), 3)


def essence_script() -> str:
    """The installed `essence` console script beside this interpreter (what users run)."""
    script = Path(sys.executable).parent / "essence"
    if not script.exists():
        raise SystemExit("no `essence` console script beside this python: pip install -e .")
    return str(script)


def measure(url: str, runs: int, env: dict[str, str]) -> dict[str, object]:
    """Median seconds of the common commands as processes on `url`."""
    env = {**env, "ESSENCE_DATABASE_URL": url}
    essence = [essence_script()]
    pending = ready_steps(url)
    clinician = "psy-1"
    worklist_size = sum(1 for who, _, _ in pending if who == clinician)
    first = time_process([*essence, "--as", clinician, "worklist"], env)
    worklist = [time_process([*essence, "--as", clinician, "worklist"], env) for _ in range(runs)]
    worklist_cpu = median_cpu(runs)
    reads = {
        "case_list": ["case", "list"],
        "case_show": ["case", "show", pending[0][1] if pending else "c-000000"],
        "schedule_show": ["schedule", "show", "--clinician", "psy-1"],
    }
    read_figures: dict[str, object] = {}
    for name, args in reads.items():
        times = [time_process([*essence, "--as", "coord-1", *args], env) for _ in range(runs)]
        read_figures[f"{name}_median_s"] = round(statistics.median(times), 3)
        read_figures[f"{name}_cpu_median_s"] = median_cpu(runs)
    complete: list[float] = []
    done_cases: set[str] = set()
    for who, case_id, step in pending:
        if len(complete) == runs:
            break
        if case_id in done_cases or who == "coord-1":
            continue
        done_cases.add(case_id)
        command = [*essence, "--as", who, "step", "complete", case_id, step, "--outcome", "bench"]
        complete.append(time_process(command, env))
    return {
        "first_command_s": round(first, 3),
        "worklist_items": worklist_size,
        "worklist_median_s": round(statistics.median(worklist), 3),
        "worklist_cpu_median_s": worklist_cpu,
        "step_complete_median_s": round(statistics.median(complete), 3) if complete else None,
        "step_complete_cpu_median_s": median_cpu(len(complete)) if complete else None,
        "step_complete_runs": len(complete),
        **read_figures,
    }


def stop_workers(folder: Path) -> None:
    """Stop the workers whose lock files (holding their pids) in `folder` are still held."""
    import fcntl

    for lock in folder.glob("*.lock"):
        fd = os.open(lock, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # got it: that worker is gone
        except OSError:
            with contextlib.suppress(OSError, ValueError, IndexError):
                os.kill(int(lock.read_text().split()[0]), signal.SIGTERM)
        finally:
            os.close(fd)


def import_time(runs: int) -> float:
    """Median seconds of `import essence.cli.app` in a fresh interpreter."""
    code = "import essence.cli.app"
    return round(
        statistics.median(
            time_process([sys.executable, "-c", code], dict(os.environ)) for _ in range(runs)
        ),
        3,
    )


def machine_load(when: str) -> dict[str, object]:
    """Core count and 1/5/15-minute load averages now, so noisy figures can be judged."""
    one, five, fifteen = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        f"load_average_{when}": [round(one, 2), round(five, 2), round(fifteen, 2)],
    }


def describe_load(machine: dict[str, object]) -> str:
    """One line: cores and the 1-minute load before and after the run."""
    before = machine.get("load_average_before", ["?"])[0]  # type: ignore[index]
    after = machine.get("load_average_after", ["?"])[0]  # type: ignore[index]
    return (
        f"machine: {machine['cpus']} cores, 1-min load average {before} before, "
        f"{after} after (figures are noisy when the load exceeds the cores)"
    )


def postgres_database() -> str | None:
    """A fresh PostgreSQL database for the benchmark, or None when none answers."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    try:
        admin = create_engine(
            POSTGRES_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with admin.connect() as connection:
            connection.execute(text('DROP DATABASE IF EXISTS "essence_bench" WITH (FORCE)'))
            connection.execute(text('CREATE DATABASE "essence_bench"'))
        return (
            make_url(POSTGRES_URL)
            .set(database="essence_bench")
            .render_as_string(hide_password=False)
        )
    except Exception:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--in-process", action="store_true", help="ESSENCE_NO_WORKER=1: no resident worker."
    )
    options = parser.parse_args()
    results: dict[str, object] = {
        "cases": options.cases,
        "runs": options.runs,
        "mode": "in-process" if options.in_process else "resident worker",
        "machine": machine_load("before"),
    }
    results["cli_import_median_s"] = import_time(options.runs)
    results["cli_import_cpu_median_s"] = median_cpu(options.runs)
    print(
        f"CLI import (python -c 'import essence.cli.app'): "
        f"{results['cli_import_median_s']} s (CPU {results['cli_import_cpu_median_s']} s), "
        f"median of {options.runs}"
    )
    with (
        tempfile.TemporaryDirectory() as folder,
        tempfile.TemporaryDirectory(prefix="ew-") as workers,
    ):
        env = {**os.environ, "ESSENCE_WORKER_DIR": workers}
        env["ESSENCE_NO_WORKER"] = "1" if options.in_process else "0"
        targets = {"sqlite": f"sqlite:///{Path(folder) / 'bench.db'}"}
        if not options.no_postgres and (pg := postgres_database()):
            targets["postgresql"] = pg
        for name, url in targets.items():
            started = time.perf_counter()
            fill(url, options.cases)
            if name == "postgresql":
                from web_load import analyse

                analyse(url)
            fill_s = time.perf_counter() - started
            try:
                figures = measure(url, options.runs, env)
            finally:
                stop_workers(Path(workers))
            results[name] = {"fill_s": round(fill_s, 1), **figures}
            print(
                f"{name} ({results['mode']}): {options.cases} cases filled in {fill_s:.1f} s; "
                f"first command {figures['first_command_s']} s; "
                f"`essence worklist` ({figures['worklist_items']} items) "
                f"{figures['worklist_median_s']} s, "
                f"`essence step complete` {figures['step_complete_median_s']} s, "
                f"`essence case list` {figures['case_list_median_s']} s, "
                f"`essence case show` {figures['case_show_median_s']} s, "
                f"`essence schedule show` {figures['schedule_show_median_s']} s "
                f"(whole processes, median of {options.runs}; goal < 0.5 s); CPU time "
                f"(user+system) of the `essence` process: worklist "
                f"{figures['worklist_cpu_median_s']} s, step complete "
                f"{figures['step_complete_cpu_median_s']} s"
            )
    results["machine"].update(machine_load("after"))  # type: ignore[union-attr]
    print(describe_load(results["machine"]))  # type: ignore[arg-type]
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(results, indent=2))
    print(f"written: {options.out.name} in {options.out.parent.name}/")


if __name__ == "__main__":
    main()
