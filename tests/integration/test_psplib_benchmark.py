"""Integration tests: real PSPLIB j30 instances through the parser, greedy, CP-SAT, the
benchmark service and the `bench psplib` command (1 worker, fixed seed).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from essence.domain.errors import InvalidInput
from essence.scheduling.psplib import read_sm, read_solutions
from essence.scheduling.rcpsp import solve_rcpsp
from essence.scheduling.rcpsp_check import schedule_problems
from essence.scheduling.solver import SolverSettings
from essence.services.benchmarking import run_psplib_benchmark

PSPLIB = Path(
    os.environ.get("ESSENCE_PSPLIB_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks" / "psplib"
)
J30 = PSPLIB / "j30"
SOLUTIONS = PSPLIB / "j30hrs.sm"

# Instances where the greedy alone misses the optimum, so CP-SAT has to improve on it.
HARDER = ["j305_3.sm", "j309_1.sm", "j3017_1.sm", "j3021_3.sm", "j3041_1.sm"]

pytestmark = pytest.mark.skipif(not J30.is_dir(), reason="shared PSPLIB j30 folder not present")


@pytest.mark.parametrize("file", HARDER)
def test_cp_sat_reaches_the_known_optimum_with_a_feasible_schedule(file: str) -> None:
    instance = read_sm(J30 / file)
    optimum = read_solutions(SOLUTIONS)[file]
    result = solve_rcpsp(instance, SolverSettings(time_budget_s=10.0, workers=1, random_seed=0))
    assert result.greedy_makespan > optimum
    assert result.makespan == optimum
    assert result.status == "OPTIMAL" and result.gap == 0.0
    assert schedule_problems(instance, result.starts) == []


def test_the_service_reports_rows_and_both_summaries() -> None:
    seen: list[tuple[int, int]] = []
    report = run_psplib_benchmark(
        J30, SOLUTIONS, 5.0, 1, lambda done, total, row: seen.append((done, total)), limit=4
    )
    assert [row.file for row in report.rows] == [f"j301_{i}.sm" for i in range(1, 5)]
    assert seen == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    assert report.summary.optimal == 4 and report.summary.mean_deviation_pct == 0.0
    assert report.greedy_summary.method == "greedy"
    document = report.to_dict()
    assert set(document) == {"summary", "greedy_summary", "instances"}
    assert document["instances"][0]["reference"] == 43
    assert len(document["instances"][0]["starts"]) == 32


def test_a_zero_budget_is_rejected_before_any_work() -> None:
    calls: list[int] = []
    with pytest.raises(InvalidInput, match=r"budget-s: 0\.0: must be positive"):
        run_psplib_benchmark(J30, SOLUTIONS, 0.0, 1, lambda *args: calls.append(1))
    assert calls == []


def test_a_malformed_file_fails_before_any_instance_is_solved(tmp_path: Path) -> None:
    for name in ("j301_1.sm", "j301_2.sm"):
        shutil.copy(J30 / name, tmp_path / name)
    text = (J30 / "j301_3.sm").read_text().splitlines()
    (tmp_path / "j301_3.sm").write_text("\n".join(text[:28]) + "\n")  # cut in precedences
    calls: list[int] = []
    with pytest.raises(InvalidInput, match=r"j301_3\.sm: truncated: expected 32 jobs in PREC"):
        run_psplib_benchmark(tmp_path, None, 1.0, 1, lambda *args: calls.append(1))
    assert calls == []


def test_greedy_only_without_solutions_counts_bound_meeting_schedules(tmp_path: Path) -> None:
    report = run_psplib_benchmark(J30, None, 1.0, 1, limit=3, greedy_only=True)
    assert report.summary.method == "greedy"
    assert all(row.reference is None and row.deviation_pct is None for row in report.rows)
    assert report.summary.mean_deviation_pct is None
    assert report.summary.optimal == sum(r.makespan <= r.lower_bound for r in report.rows)


def test_bench_psplib_json_lists_every_job_start() -> None:
    from essence.cli.app import app

    arguments = ["bench", "psplib", str(J30), "--solutions", str(SOLUTIONS), "--limit", "2"]
    result = CliRunner().invoke(app, [*arguments, "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    row = document["instances"][1]
    assert (row["file"], row["makespan"], row["reference"]) == ("j301_2.sm", 47, 47)
    assert {"status", "seconds", "greedy_makespan"} <= set(row)
    instance = read_sm(J30 / "j301_2.sm")
    starts = {int(job): start for job, start in row["starts"].items()}
    assert schedule_problems(instance, starts) == []


def test_bench_psplib_rejects_a_zero_budget_and_writes_nothing() -> None:
    from essence.cli.app import app

    result = CliRunner().invoke(app, ["bench", "psplib", str(J30), "--budget-s", "0", "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == ["error: budget-s: 0.0: must be positive"]


def test_bench_psplib_names_a_truncated_file_in_one_line(tmp_path: Path) -> None:
    from essence.cli.app import app

    source = (J30 / "j301_3.sm").read_text().splitlines()
    (tmp_path / "j301_3.sm").write_text("\n".join(source[:25]) + "\n")
    result = CliRunner().invoke(app, ["bench", "psplib", str(tmp_path)])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: psplib file: j301_3.sm:")
    assert "Traceback" not in result.output
