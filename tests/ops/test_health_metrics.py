"""/healthz says whether the database answers at the code's schema; /metrics speaks
Prometheus to localhost or the token holder, with no personal data."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from essence import bootstrap
from essence.adapters.migrations import downgrade, upgrade
from essence.adapters.schema_version import code_head, revisions
from essence.services.sweep import daily_sweep
from essence.web.app import create_app
from tests.factories import FixedClock
from tests.web.conftest import BASE_URL, Web


def test_healthz_is_ok_at_head_and_503_with_the_reason_otherwise(web: Web) -> None:
    client = TestClient(web.app, base_url=BASE_URL)
    ok = client.get("/healthz")
    assert ok.status_code == 200
    assert ok.json() == {
        "status": "ok",
        "database": "reachable",
        "revision": code_head(),
        "head": code_head(),
    }
    engine = bootstrap.engine_for(web.url)
    downgrade(engine, "-1")
    behind = client.get("/healthz")
    assert behind.status_code == 503
    assert behind.json()["revision"] == [r.id for r in revisions()][-2]
    assert "essence db upgrade" in behind.json()["reason"]
    upgrade(engine, "head")
    assert client.get("/healthz").status_code == 200


def test_healthz_is_503_when_the_database_is_unreachable(clock: FixedClock) -> None:
    url = "postgresql+psycopg://essence:secret-pw@127.0.0.1:9/essence"
    client = TestClient(create_app(url, clock=clock), base_url=BASE_URL)
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert "cannot connect" in down.json()["reason"] and "secret-pw" not in down.text
    bootstrap._ENGINES.pop(url).dispose()


def test_metrics_only_for_localhost_or_the_token(
    sqlite_web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = TestClient(sqlite_web.app, base_url=BASE_URL)
    assert remote.get("/metrics").status_code == 403
    local = TestClient(sqlite_web.app, base_url=BASE_URL, client=("127.0.0.1", 50000))
    assert local.get("/metrics").status_code == 200
    proxied = local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403
    monkeypatch.setenv("ESSENCE_METRICS_TOKEN", "t0ken-for-tests")
    assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    allowed = remote.get("/metrics", headers={"Authorization": "Bearer t0ken-for-tests"})
    assert allowed.status_code == 200


def test_metrics_report_latency_cases_overdue_unscheduled_and_the_last_sweep(
    sqlite_web: Web,
) -> None:
    opened = [sqlite_web.open_case(child_name="Greta Metriksdotter") for _ in range(3)]
    coordinator = sqlite_web.client("coord-1")
    assert coordinator.get(f"/api/v1/cases/{opened[0].id}").status_code == 200
    sqlite_web.clock.set(sqlite_web.clock.now.date().replace(month=6))
    daily_sweep(sqlite_web.ctx)
    local = TestClient(sqlite_web.app, base_url=BASE_URL, client=("127.0.0.1", 50000))
    body = local.get("/metrics").text
    latency = re.search(
        r'essence_http_request_duration_seconds_count\{method="GET",'
        r'route="/api/v1/cases/\{case_id\}",status="200"\} (\S+)',
        body,
    )
    assert latency is not None and float(latency.group(1)) >= 1.0  # per process
    assert "essence_database_up 1.0" in body
    states = {
        line.split('"')[1]: float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line.startswith("essence_cases{")
    }
    assert sum(states.values()) == 3
    assert _value(body, "essence_steps_not_scheduled") > 0
    assert _value(body, "essence_overdue_steps") >= 3  # every intake waited since March
    assert _value(body, "essence_last_sweep_timestamp_seconds") == pytest.approx(
        sqlite_web.clock.now.timestamp()
    )
    assert "Metriksdotter" not in body and opened[0].id not in body
    for case in opened:
        assert case.personnummer.split("-")[0] not in body


def _value(body: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", body, re.MULTILINE)
    assert found is not None, f"{name} missing"
    return float(found.group(1))
