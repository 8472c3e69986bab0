"""The web load benchmark end to end on a small fill: its server, clients, undo round and
the check that every confirmed change is stored exactly as confirmed (PostgreSQL only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_REACHABLE

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "web_load.py"

pytestmark = pytest.mark.skipif(not POSTGRES_REACHABLE, reason="PostgreSQL not reachable")


def test_a_short_saturating_run_stores_every_confirmed_change_as_confirmed(
    tmp_path: Path,
) -> None:
    out = tmp_path / "web_load.json"
    small_and_saturating = ["--cases", "12", "--clients", "4", "--seconds", "6", "--think-ms", "0"]
    run = subprocess.run(
        [sys.executable, str(BENCHMARK), *small_and_saturating, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads(out.read_text())
    checks = results["verification"]
    assert checks["as_confirmed"] and checks["steps_not_as_confirmed"] == 0
    assert checks["confirmed_completions"] > 0
    # Four clients saturating twelve cases run out of ready steps and fall back to undo.
    assert checks["confirmed_undos"] > 0
    kinds = results["by_kind"]
    assert {"page /worklist", "page /cases/{id}", "api complete"} <= set(kinds)
    assert "changes confirmed" in run.stdout and "requests/s" in run.stdout
