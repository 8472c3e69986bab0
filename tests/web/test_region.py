"""The FHIR endpoints and the printable term follow-up page (SQLite and PostgreSQL).

FHIR errors are OperationOutcomes naming the element path; the page speaks Swedish.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from essence.adapters.fhir.codes import PERSONNUMMER_SYSTEM
from tests.web.conftest import Web

FIXTURE = Path(__file__).parents[1] / "fixtures" / "fhir" / "referral-sorsele.json"
FHIR_JSON = "application/fhir+json"


def _bundle() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def _post(client: Any, body: str) -> Any:
    return client.post(
        "/api/v1/fhir/Bundle", content=body.encode(), headers={"Content-Type": FHIR_JSON}
    )


def test_referral_in_and_care_plan_out_over_the_api(web: Web) -> None:
    web.clock.set(date(2026, 10, 5), 11)
    client = web.client("coord-1")
    created = _post(client, json.dumps(_bundle()))
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith(FHIR_JSON)
    answer = created.json()
    assert answer["type"] == "transaction-response"
    assert len(answer["entry"]) == len(_bundle()["entry"]) + 1
    assert answer["entry"][0]["response"]["location"].startswith("Patient/")
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(answer)
    location = created.headers["location"]
    plan = client.get(location)
    assert plan.status_code == 200 and plan.headers["content-type"].startswith(FHIR_JSON)
    patient = next(
        e["resource"] for e in plan.json()["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    assert patient["identifier"][0]["system"] == PERSONNUMMER_SYSTEM
    assert "202204182386" not in location


def test_invalid_referrals_are_operation_outcomes_with_the_path(web: Web) -> None:
    web.clock.set(date(2026, 10, 5), 11)
    client = web.client("coord-1")
    spoiled = _bundle()
    spoiled["entry"][0]["resource"]["address"][0]["district"] = "Gotham"
    refused = _post(client, json.dumps(spoiled))
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith(FHIR_JSON)
    outcome = refused.json()
    from fhir.resources.R4B.operationoutcome import OperationOutcome

    OperationOutcome.model_validate(outcome)
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[0].resource.address[0].district"]
    assert outcome["issue"][0]["severity"] == "error"
    not_json = _post(client, "{nope")
    assert (not_json.status_code, not_json.json()["issue"][0]["code"]) == (400, "structure")
    missing = client.get("/api/v1/fhir/CarePlan/c-nothing")
    assert (missing.status_code, missing.json()["issue"][0]["code"]) == (404, "not-found")
    assert client.get("/api/v1/cases").json() == []


def test_planners_and_outsiders_get_no_care_plan(web: Web) -> None:
    web.clock.set(date(2026, 10, 5), 11)
    case_id = _post(web.client("coord-1"), json.dumps(_bundle())).headers["location"].split("/")[-1]
    denied = web.client("planner-1").get(f"/api/v1/fhir/CarePlan/{case_id}")
    assert denied.status_code == 403
    assert denied.json()["issue"][0]["code"] == "forbidden"
    not_coordinator = _post(web.client("psy-1"), json.dumps(_bundle()))
    assert not_coordinator.status_code == 403


def test_the_term_page_is_swedish_printable_and_for_planners(web: Web) -> None:
    web.clock.set(date(2026, 10, 5), 11)
    _post(web.client("coord-1"), json.dumps(_bundle()))
    page = web.client("planner-1").get("/report/term?term=2026H2")
    assert page.status_code == 200, page.text
    html = page.text
    for label in ("Terminsuppföljning 2026H2", "Andel med samtycke", "Med SIP", "Efter kön"):
        assert label in html
    assert "färre än 5" in html
    assert "/static/followup.css" in html
    assert "202204182386" not in html and "Provsson" not in html
    workbook = web.client("coord-1").get("/report/term.xlsx?term=2026H2")
    assert workbook.status_code == 200
    assert workbook.content[:2] == b"PK"
    assert web.client("psy-1").get("/report/term").status_code == 403
    bad = web.client("planner-1").get("/report/term?term=2026H9")
    assert bad.status_code == 422 and "term" in bad.text
