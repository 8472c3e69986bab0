"""The planner's twin page: start a small twin, follow its progress, see it beside the
simulator in Swedish; field messages for bad input; planners and coordinators only."""

from __future__ import annotations

import re
import time

from fastapi.testclient import TestClient

from tests.web.conftest import Web


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/planner/twin").text)
    assert found is not None
    return found.group(1)


def test_a_planner_starts_a_twin_and_sees_it_beside_the_simulator(sqlite_web: Web) -> None:
    client = sqlite_web.client("planner-1")
    assert 'href="/planner/twin"' in client.get("/planner").text
    form = {"children_per_year": "10", "years": "0.25", "replan_every_days": "10",
            "seed": "4", "setup": "central"}  # fmt: skip
    started = client.post(
        "/planner/twin/runs",
        data={**form, "csrf_token": _csrf(client)},
        headers={"HX-Request": "1"},
    )
    assert started.status_code == 200, started.text[-1500:]
    run_url = re.search(r'hx-get="(/planner/twin/runs/[0-9a-f]+)"', started.text)
    assert run_url is not None and "<progress" in started.text
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        fragment = client.get(run_url.group(1), headers={"HX-Request": "1"}).text
        if 'data-testid="twin-results"' in fragment or 'role="alert"' in fragment:
            break
        time.sleep(1)
    assert 'data-testid="twin-results"' in fragment, fragment
    assert "Tvillingen bredvid simulatorn" in fragment and "ledtid, median (dagar)" in fragment
    assert "färre än 5 – visas inte" in fragment
    kept = client.get("/planner/twin")
    assert 'data-testid="twin-results"' in kept.text
    assert sqlite_web.client("coord-1").get(run_url.group(1)).status_code == 404


def test_twin_limits_are_swedish_field_messages(sqlite_web: Web) -> None:
    client = sqlite_web.client("planner-1")
    answer = client.post(
        "/planner/twin/runs",
        data={"children_per_year": "5000", "years": "1", "replan_every_days": "1",
              "seed": "1", "setup": "central", "csrf_token": _csrf(client)},
    )  # fmt: skip
    assert answer.status_code == 422
    assert re.search(r'data-field="children_per_year">måste vara 10–300', answer.text)


def test_clinicians_may_not_run_the_twin(sqlite_web: Web) -> None:
    assert sqlite_web.client("psy-1").get("/planner/twin").status_code == 403
