"""The planner page: a bounded capacity run in the background, its progress, charts and equity.

Only planners and coordinators may run scenarios; groups under 5 children are suppressed.
"""

from __future__ import annotations

import re
import time

from fastapi.testclient import TestClient

from tests.web.conftest import Web


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/planner").text)
    assert found is not None
    return found.group(1)


def test_a_planner_runs_a_scenario_and_sees_charts_and_the_equity_table(
    sqlite_web: Web,
) -> None:
    client = sqlite_web.client("planner-1")
    form = {"children_per_year": "120", "years": "1", "replications": "2", "setup": "central"}
    started = client.post(
        "/planner/runs", data={**form, "csrf_token": _csrf(client)}, headers={"HX-Request": "1"}
    )
    assert started.status_code == 200
    run_url = re.search(r'hx-get="(/planner/runs/[0-9a-f]+)"', started.text)
    assert run_url is not None and "<progress" in started.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fragment = client.get(run_url.group(1), headers={"HX-Request": "1"}).text
        if 'data-testid="results"' in fragment:
            break
        time.sleep(0.2)
    assert 'data-testid="results"' in fragment
    assert 'class="curve curve-0"' in fragment and "samordnat team" in fragment
    assert 'data-testid="equity"' in fragment
    assert "&lt;5 · färre än 5 – visas inte" in fragment
    assert "länsdel: inlandet" in fragment or "länsdel: kusten" in fragment
    whole_page = client.get(run_url.group(1))
    assert whole_page.status_code == 200 and "<h1>Kapacitetskörning</h1>" in whole_page.text
    assert sqlite_web.client("coord-1").get(run_url.group(1)).status_code == 404


def test_scenario_limits_are_field_messages_all_at_once(sqlite_web: Web) -> None:
    client = sqlite_web.client("planner-1")
    answer = client.post(
        "/planner/runs",
        data={"children_per_year": "99999", "years": "x", "replications": "2",
              "setup": "central", "csrf_token": _csrf(client)},
    )  # fmt: skip
    assert answer.status_code == 422
    assert re.search(r'data-field="children_per_year">Från 20 till 1000', answer.text)
    assert re.search(r'data-field="years">Ange ett heltal', answer.text)
    assert 'value="99999"' in answer.text


def test_an_invalid_scenario_under_htmx_replaces_the_form_not_nests_a_page(
    sqlite_web: Web,
) -> None:
    client = sqlite_web.client("planner-1")
    answer = client.post(
        "/planner/runs",
        data={"children_per_year": "5", "years": "1", "replications": "2",
              "setup": "central", "csrf_token": _csrf(client)},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert answer.status_code == 422
    assert answer.headers["HX-Retarget"] == "#planner-form"
    assert answer.headers["HX-Reswap"] == "outerHTML"
    assert "<html" not in answer.text and "<h1>" not in answer.text
    assert answer.text.count('id="planner-form"') == 1


def test_clinicians_may_not_run_capacity_scenarios(sqlite_web: Web) -> None:
    assert sqlite_web.client("psy-1").get("/planner").status_code == 403
