"""The server-rendered pages: dashboard, open-case form, case page and the htmx worklist.

Pages call the same services as the API; these tests read the HTML a browser would get.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.factories import personnummer
from tests.web.conftest import Web


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def test_the_dashboard_shows_open_cases_with_risk_badges_and_filters(sqlite_web: Web) -> None:
    umea = sqlite_web.open_case(municipality="Umeå")
    sorsele = sqlite_web.open_case(municipality="Sorsele", child_name="Sara Sorselesson")
    client = sqlite_web.client("coord-1")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert umea.id in page.text and sorsele.id in page.text
    assert re.search(r'class="badge badge-(ok|warn|late)"', page.text)
    assert "intake ← coord-1" in page.text
    filtered = client.get("/dashboard", params={"municipality": "Sorsele"}).text
    assert sorsele.id in filtered and umea.id not in filtered
    at_risk = client.get("/dashboard", params={"risk": "at-risk"})
    assert at_risk.status_code == 200


def test_the_open_case_form_shows_the_message_under_the_wrong_field(sqlite_web: Web) -> None:
    client = sqlite_web.client("coord-1")
    form = {
        "csrf_token": _csrf(client, "/cases/new"),
        "personnummer": "20210517-1235",
        "child_name": "Testa Testsson",
        "municipality": "Umeå",
        "referring_unit": "BHV Ålidhem",
        "referral_date": "2026-03-02",
        "guardians": "2",
        "consenting": "2",
    }
    wrong_number = client.post("/cases/new", data=form)
    assert wrong_number.status_code == 422
    assert re.search(r'data-field="personnummer">[^<]*check digit', wrong_number.text)
    assert "20210517-1235" not in wrong_number.text, "the typed number is not echoed"
    assert 'value="Testa Testsson"' in wrong_number.text
    form["personnummer"] = personnummer().digits
    form["referral_date"] = "2027-01-01"
    future = client.post("/cases/new", data=form)
    assert re.search(r'data-field="referral_date">lies in the future', future.text)
    form["referral_date"], form["consenting"] = "2026-03-02", "3"
    too_many = client.post("/cases/new", data=form)
    assert re.search(r'data-field="consenting">must be 0..2', too_many.text)
    form["consenting"] = "2"
    opened = client.post("/cases/new", data=form, follow_redirects=False)
    assert opened.status_code == 303


def test_the_case_page_has_steps_timeline_and_the_audit_trail(sqlite_web: Web) -> None:
    case = sqlite_web.open_case()
    client = sqlite_web.client("coord-1")
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert '<svg class="timeline"' in page.text
    assert 'class="line-140"' in page.text
    assert 'data-step="feedback_meeting"' in page.text
    assert "after team_conference" in page.text  # the DAG's edges, step by step
    assert f'hx-get="/cases/{case.id}/audit"' in page.text
    trail = client.get(f"/cases/{case.id}/audit", headers={"HX-Request": "true"})
    assert trail.text.count("case.show") == 1
    assert "case.open" in trail.text


def test_the_worklist_changes_steps_without_a_full_reload(sqlite_web: Web) -> None:
    case = sqlite_web.open_case()
    coordinator = sqlite_web.client("coord-1")
    coordinator.post(f"/api/v1/cases/{case.id}/steps/intake/complete", json={})
    physician = sqlite_web.client("md-1")
    page = physician.get("/worklist")
    assert f'data-case="{case.id}" data-step="medical_exam"' in page.text
    assert 'hx-trigger="worklist-changed from:body"' in page.text
    done = physician.post(
        f"/worklist/{case.id}/medical_exam/complete",
        data={"note": "normal findings"},
        headers={"HX-Request": "true"},
    )
    assert done.status_code == 200
    assert done.headers["HX-Trigger"] == "worklist-changed"
    assert "is now completed" in done.text and "cognitive_test" in done.text
    assert "medical_exam" not in physician.get("/worklist/items").text


def test_holding_without_a_reason_says_why_in_the_fragment(sqlite_web: Web) -> None:
    case = sqlite_web.open_case()
    client = sqlite_web.client("coord-1")
    held = client.post(
        f"/worklist/{case.id}/intake/hold", data={"note": ""}, headers={"HX-Request": "true"}
    )
    assert held.status_code == 422
    assert "a hold needs a reason" in held.text
    without_htmx = client.post(
        f"/worklist/{case.id}/intake/hold", data={"note": "ill"}, follow_redirects=False
    )
    assert (without_htmx.status_code, without_htmx.headers["location"]) == (303, "/worklist")


def test_each_role_lands_on_its_page(sqlite_web: Web) -> None:
    for user, page in (
        ("coord-1", "/dashboard"),
        ("psy-1", "/worklist"),
        ("planner-1", "/planner"),
    ):
        response = sqlite_web.client(user).get("/", follow_redirects=False)
        assert response.headers["location"] == page
    report = sqlite_web.client("planner-1").get("/report")
    assert report.status_code == 200
    assert "fewer than 5 cases: not shown" in report.text
