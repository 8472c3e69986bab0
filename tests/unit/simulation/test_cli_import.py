"""The CLI module stays cheap to import: no numpy, matplotlib, Prefect or simulator."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_simulate_cli_loads_no_heavy_modules() -> None:
    code = (
        "import sys, essence.cli.simulate; "
        "heavy = ('numpy', 'matplotlib', 'prefect', 'essence.simulation.engine'); "
        "print([m for m in heavy if m in sys.modules])"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"
