"""Logs: one JSON line per use case and per web request, with the request id that is also in
the audit row; and never a personnummer or a name, checked by grepping every log line and
every file written under the data directory after a full CLI and web session."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from essence import bootstrap
from essence.cli.app import app
from essence.logging_setup import configure_logging
from essence.services import auth
from essence.web.app import create_app
from tests.factories import FixedClock
from tests.web.conftest import BASE_URL, sign_in

CHILD = {"personnummer": "201905122386", "name": "Ylva Påhittadotter"}
SECOND = {"personnummer": "202002146385", "name": "Elis Uppdiktadsson"}


def _forbidden() -> list[str]:
    words = []
    for child in (CHILD, SECOND):
        digits = child["personnummer"]
        words += [digits, digits[2:], f"{digits[:8]}-{digits[8:]}", f"{digits[2:8]}-{digits[8:]}"]
        words += [child["name"], *child["name"].split()]
    return words


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data directory holding the database and a JSON log file; logging back after."""
    monkeypatch.setenv("ESSENCE_LOG_FORMAT", "json")
    monkeypatch.setenv("ESSENCE_LOG_LEVEL", "INFO")
    monkeypatch.setenv("ESSENCE_LOG_FILE", str(tmp_path / "essence.jsonl"))
    monkeypatch.chdir(tmp_path)
    configure_logging("server", force=True)
    yield tmp_path
    for handler in list(logging.getLogger().handlers):
        if handler.get_name() == "essence":
            logging.getLogger().removeHandler(handler)
            handler.close()


def test_a_full_session_logs_ids_and_outcomes_but_no_personal_data(
    data_dir: Path, clock: FixedClock
) -> None:
    url = f"sqlite:///{data_dir / 'essence.db'}"
    env = {"ESSENCE_DATABASE_URL": url}
    runner = CliRunner()

    def cli(*args: str, user: str = "coord-1"):  # type: ignore[no-untyped-def]
        result = runner.invoke(app, ["--as", user, *args], env=env)
        assert result.exit_code in (0, 2), result.output
        return result

    cli("init", "--demo")
    opened = cli(
        "case", "open", "--personnummer", CHILD["personnummer"], "--name", CHILD["name"],
        "--municipality", "Lycksele", "--referring-unit", "BHV Lycksele",
        "--referral-date", "2026-11-02", "--consent", "2", "--json",
    )  # fmt: skip
    case_id = json.loads(opened.stdout)["id"]
    cli("case", "show", case_id)
    cli("case", "list")
    cli("step", "complete", case_id, "intake", "--outcome", "guardians met")
    cli("worklist", user="md-1")
    bad = cli("case", "open", "--personnummer", "201905122380", "--name", CHILD["name"],
              "--municipality", "Lycksele", "--referring-unit", "BHV", "--referral-date",
              "2026-11-02")  # fmt: skip
    assert bad.exit_code == 2
    denied = cli("case", "show", case_id, user="planner-1")
    assert denied.exit_code == 2
    cli("audit", "--case", case_id)
    backup = cli("backup", "--out", str(data_dir / "nightly.backup"))
    assert backup.exit_code == 0

    password = "a long synthetic test password"
    auth.set_password(bootstrap.context(user_id="coord-1", database_url=url), "coord-1", password)
    client_app = create_app(url, clock=clock)
    from fastapi.testclient import TestClient

    client = TestClient(client_app, base_url=BASE_URL)
    client.headers["X-CSRF-Token"] = sign_in(client, "coord-1", password)
    created = client.post(
        "/api/v1/cases",
        json={
            "personnummer": SECOND["personnummer"],
            "child_name": SECOND["name"],
            "municipality": "Umeå",
            "referring_unit": "BHV Ålidhem",
            "referral_date": "2026-02-20",
            "consenting": 2,
        },
    )
    assert created.status_code == 201, created.text
    web_case = created.json()["id"]
    assert client.get(f"/api/v1/cases/{web_case}").status_code == 200
    assert client.get(f"/cases/{web_case}").status_code == 200
    shown = client.get(f"/api/v1/cases/{case_id}", headers={"X-Request-ID": "proxy-req-42"})
    assert shown.headers["x-request-id"] == "proxy-req-42"
    assert (
        client.post(f"/api/v1/cases/{web_case}/steps/intake/complete", json={}).status_code == 200
    )
    assert client.get("/dashboard").status_code == 200
    assert client.get("/healthz").status_code == 200

    for handler in logging.getLogger().handlers:
        handler.flush()
    log_lines = (data_dir / "essence.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in log_lines]
    use_cases = [r for r in records if r.get("logger") == "essence.usecase"]
    assert {"case.open", "case.show", "step.complete", "worklist"} <= {
        r["action"] for r in use_cases
    }
    for record in use_cases:
        assert {
            "time",
            "level",
            "request_id",
            "action",
            "case_id",
            "outcome",
            "duration_ms",
        } <= set(record)
    assert any(r["outcome"] == "PermissionDenied" for r in use_cases)
    access = [r for r in records if r.get("logger") == "essence.web.access"]
    assert any(r["route"] == "/api/v1/cases/{case_id}" for r in access)

    engine = bootstrap.engine_for(url)
    with engine.connect() as connection:
        audited = connection.execute(
            text("SELECT action FROM audit_event WHERE request_id = 'proxy-req-42'")
        ).all()
        web_ids = {
            r[0]
            for r in connection.execute(
                text("SELECT request_id FROM audit_event WHERE case_id = :c"), {"c": web_case}
            )
        }
    assert audited == [("case.show",)]
    logged_ids = {r["request_id"] for r in access}
    assert None not in web_ids and web_ids <= logged_ids  # each audit row → its request's log

    forbidden = _forbidden()
    database_files = {"essence.db", "essence.db-wal", "essence.db-shm", "nightly.backup"}
    written = [p for p in data_dir.rglob("*") if p.is_file() and p.name not in database_files]
    assert data_dir / "essence.jsonl" in written
    for path in written:
        content = path.read_text(encoding="utf-8", errors="replace")
        for word in forbidden:
            assert word not in content, f"{word!r} found in {path.name}"
    # A personnummer-shaped token standing alone (case and request ids are hex and may hold
    # long runs of digits, so a bare digit count would flag them).
    digits = re.compile(r"(?<![\w-])(?:\d{8}|\d{6})[-+]?\d{4}(?![\w-])")
    assert not [line for line in log_lines if digits.search(line)]
    engine.dispose()
    bootstrap._ENGINES.pop(url, None)


def test_the_mask_catches_a_personnummer_that_slips_into_a_message(
    data_dir: Path,
) -> None:
    logging.getLogger("essence.test").warning("looked up %s", "20190512-2381")
    for handler in logging.getLogger().handlers:
        handler.flush()
    line = (data_dir / "essence.jsonl").read_text(encoding="utf-8").splitlines()[-1]
    assert "2381" not in line and "20190512-****" in json.loads(line)["message"]
