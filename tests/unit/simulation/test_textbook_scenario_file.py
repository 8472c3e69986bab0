"""The packaged textbook scenario reproduces Erlang C from a scenario file alone."""

from __future__ import annotations

from importlib import resources

import pytest

from essence.services.capacity import load_scenario, run_simulation
from essence.simulation.queueing import mmc_mean_sojourn


@pytest.mark.slow
def test_textbook_mmc_file_gives_the_erlang_c_time_in_system(tmp_path) -> None:
    text = resources.files("essence").joinpath("scenarios/textbook-mmc.yaml").read_text("utf-8")
    file = tmp_path / "textbook.yaml"
    file.write_text(text, encoding="utf-8")
    report = run_simulation(load_scenario(file))
    mean = report.policies[0].mean_days
    expected = mmc_mean_sojourn(2.1, 1.0, 3)
    assert mean.low <= expected <= mean.high
    assert mean.high - mean.low < 0.1 * expected
