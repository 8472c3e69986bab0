"""The JSON API through FastAPI's TestClient, on SQLite and on PostgreSQL.

The API returns the same shapes as the CLI's `--json` and turns every error into a problem.
"""

from __future__ import annotations

from essence.services.views import AuditLine, CaseSummary, CaseView, StepChange, WorkItemView
from tests.factories import personnummer
from tests.web.conftest import Web

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def _referral_json(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "personnummer": personnummer().digits,
        "child_name": "Testa Testsson",
        "municipality": "Umeå",
        "referring_unit": "BHV Ålidhem",
        "referral_date": "2026-03-02",
    }
    body.update(overrides)
    return body


def test_coordinator_opens_lists_and_shows_a_case_in_the_cli_shapes(web: Web) -> None:
    client = web.client("coord-1")
    opened = client.post("/api/v1/cases", json=_referral_json())
    assert opened.status_code == 201, opened.text
    case = CaseView.model_validate(opened.json())
    assert set(opened.json()) == set(CaseView.model_fields)
    assert case.personnummer.endswith("-****")
    listed = client.get("/api/v1/cases")
    assert listed.status_code == 200
    assert [CaseSummary.model_validate(row).id for row in listed.json()] == [case.id]
    shown = client.get(f"/api/v1/cases/{case.id}")
    assert shown.status_code == 200
    assert CaseView.model_validate(shown.json()).steps[0].key == "intake"


def test_a_bad_referral_is_a_problem_naming_the_field_and_nothing_is_written(web: Web) -> None:
    client = web.client("coord-1")
    bad_number = client.post("/api/v1/cases", json=_referral_json(personnummer="20210517-0000"))
    assert bad_number.status_code == 422
    assert bad_number.headers["content-type"].startswith("application/problem+json")
    assert set(bad_number.json()) >= PROBLEM_KEYS
    assert bad_number.json()["field"] == "personnummer"
    assert "20210517-0000" not in bad_number.text
    bad_place = client.post("/api/v1/cases", json=_referral_json(municipality="Gotham"))
    assert (bad_place.status_code, bad_place.json()["field"]) == (422, "municipality")
    bad_date = client.post("/api/v1/cases", json=_referral_json(referral_date="2026-02-30"))
    assert (bad_date.status_code, bad_date.json()["field"]) == (422, "referral_date")
    assert client.get("/api/v1/cases").json() == []


def test_clinician_completes_a_step_and_the_next_steps_become_ready(web: Web) -> None:
    case = web.open_case()
    coordinator = web.client("coord-1")
    intake = coordinator.post(f"/api/v1/cases/{case.id}/steps/intake/complete", json={})
    assert intake.status_code == 200, intake.text
    assert "medical_exam" in StepChange.model_validate(intake.json()).newly_ready

    physician = web.client("md-1")
    items = [WorkItemView.model_validate(i) for i in physician.get("/api/v1/worklist").json()]
    assert [(i.case_id, i.step_key) for i in items] == [(case.id, "medical_exam")]
    started = physician.post(f"/api/v1/cases/{case.id}/steps/medical_exam/start")
    assert started.json()["state"] == "in-progress"
    done = physician.post(
        f"/api/v1/cases/{case.id}/steps/medical_exam/complete", json={"outcome": "normal"}
    )
    assert done.status_code == 200
    assert {"cognitive_test", "autism_observation"} <= set(done.json()["newly_ready"])

    steps = {s["key"]: s for s in coordinator.get(f"/api/v1/cases/{case.id}").json()["steps"]}
    assert steps["medical_exam"]["state"] == "completed"
    assert steps["cognitive_test"]["state"] == "ready"


def test_hold_and_resume_a_step(web: Web) -> None:
    case = web.open_case()
    coordinator = web.client("coord-1")
    held = coordinator.post(
        f"/api/v1/cases/{case.id}/steps/intake/hold", json={"reason": "the child is ill"}
    )
    assert held.json()["state"] == "on-hold"
    resumed = coordinator.post(f"/api/v1/cases/{case.id}/steps/intake/resume")
    assert resumed.json()["state"] == "ready"


def test_a_clinician_not_on_the_case_gets_403_and_the_refusal_is_audited(web: Web) -> None:
    case = web.open_case()
    psychologists = {s.assignees.get("psychologist") for s in case.steps} - {None}
    outsider = next(p for p in ("psy-1", "psy-2", "psy-3") if p not in psychologists)
    refused = web.client(outsider).get(f"/api/v1/cases/{case.id}")
    assert refused.status_code == 403
    assert refused.json()["title"] == "Forbidden"
    trail = web.client("coord-1").get(f"/api/v1/cases/{case.id}/audit").json()
    lines = [AuditLine.model_validate(line) for line in trail]
    assert (outsider, "case.show", "denied") in {(a.user_id, a.action, a.outcome) for a in lines}


def test_every_view_of_a_case_is_in_its_audit_trail(web: Web) -> None:
    case = web.open_case()
    client = web.client("coord-1")
    client.get(f"/api/v1/cases/{case.id}")
    client.get(f"/api/v1/cases/{case.id}")
    actions = [line["action"] for line in client.get(f"/api/v1/cases/{case.id}/audit").json()]
    assert actions.count("case.show") == 2


def test_unknown_case_is_404_and_illegal_step_move_is_409(web: Web) -> None:
    case = web.open_case()
    client = web.client("coord-1")
    missing = client.get("/api/v1/cases/c-0000000000")
    assert missing.status_code == 404
    assert set(missing.json()) >= PROBLEM_KEYS
    too_early = client.post(f"/api/v1/cases/{case.id}/steps/team_conference/start")
    assert too_early.status_code == 409
    assert "team_conference" in too_early.json()["detail"]


def test_planners_get_aggregates_only(web: Web) -> None:
    web.open_case()
    planner = web.client("planner-1")
    report = planner.get("/api/v1/report")
    assert report.status_code == 200
    assert report.json()["cases"] == []
    assert report.json()["cohort"]["suppressed"] is True
    assert planner.get("/api/v1/cases").status_code == 403


def test_without_a_session_the_api_answers_401_problems(web: Web) -> None:
    anonymous = web.client()
    response = anonymous.get("/api/v1/cases")
    assert response.status_code == 401
    assert set(response.json()) >= PROBLEM_KEYS
    wrong = anonymous.post("/api/v1/session", json={"user_id": "coord-1", "password": "nope-nope"})
    assert wrong.status_code == 401
    assert "password" in wrong.json()["detail"]
