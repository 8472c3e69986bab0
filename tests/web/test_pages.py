"""The server-rendered pages: dashboard, search, open-case form, case page and the htmx worklist.

Pages call the same services as the API; these tests read the HTML a browser would get
(in Swedish unless the test asks for English).
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import text

from essence.services import scheduling, steps
from essence.web import i18n
from tests.factories import personnummer
from tests.web.conftest import Web


def _visible(html: str) -> str:
    """The text a person reads (tags and attributes removed)."""
    return re.sub(r"<[^>]+>", " ", html)


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def test_the_dashboard_opens_with_counts_and_shows_names_not_keys(sqlite_web: Web) -> None:
    umea = sqlite_web.open_case(municipality="Umeå")
    sorsele = sqlite_web.open_case(municipality="Sorsele", child_name="Sara Sorselesson")
    waiting = sqlite_web.open_case(child_name="Vera Väntar", consenting=1)
    client = sqlite_web.client("coord-1")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert '<html lang="sv">' in page.text and "Öppna ärenden" in page.text
    assert umea.id in page.text and sorsele.id in page.text and waiting.id in page.text
    assert re.search(r'data-count="waiting_on_consent">1<', page.text)
    for name in ("at_risk_90", "at_risk_140", "not_scheduled_yet", "needs_review"):
        assert f'data-count="{name}"' in page.text
    assert re.search(r'class="badge badge-(ok|warn|late)"', page.text)
    assert "Inskrivning och samtycke (båda vårdnadshavarna): Saga Lindqvist" in page.text
    assert "intake ←" not in page.text and "coord-1" not in _visible(page.text)
    filtered = client.get("/dashboard", params={"municipality": "Sorsele"}).text
    assert sorsele.id in filtered and umea.id not in filtered
    assert client.get("/dashboard", params={"risk": "at-risk"}).status_code == 200


def test_search_finds_a_child_by_name_personnummer_or_case_id_and_is_audited(
    sqlite_web: Web,
) -> None:
    number = personnummer()
    case = sqlite_web.open_case(personnummer=number.digits, child_name="Hugo Högberg")
    other = sqlite_web.open_case(child_name="Alma Andersson")
    client = sqlite_web.client("coord-1")
    csrf = _csrf(client, "/search")
    digits = number.digits
    for query in (
        "hugo",
        "Högberg Hugo",
        digits,
        f"{digits[:8]}-{digits[8:]}",
        f"{digits[2:8]}-{digits[8:]}",
        f"{digits[2:8]}{digits[8:]}",
        case.id[:6],
        case.id.removeprefix("c-")[:5],
    ):
        found = client.post("/search", data={"q": query, "csrf_token": csrf})
        assert found.status_code == 200, query
        assert case.id in found.text, query
        assert other.id not in found.text, query
    nothing = client.post("/search", data={"q": "Zlatan", "csrf_token": csrf})
    assert "0 ärenden hittades" in nothing.text
    with sqlite_web.ctx.uow_factory() as uow:
        rows = uow.session.execute(  # type: ignore[attr-defined]
            text("SELECT case_id, detail FROM audit_event WHERE action = 'case.search'")
        ).all()
    assert {r[0] for r in rows} == {case.id, None}
    assert all(digits[2:8] not in (r[1] or "") for r in rows), "the query is never stored"


def test_the_open_case_form_shows_every_error_at_once_and_keeps_the_values(
    sqlite_web: Web,
) -> None:
    client = sqlite_web.client("coord-1")
    form = {
        "csrf_token": _csrf(client, "/cases/new"),
        "personnummer": "20210517-1235",
        "child_name": "x" * 121,
        "municipality": "Atlantis",
        "referring_unit": "",
        "referral_date": "2027-01-01",
        "guardians": "2",
        "consenting": "3",
    }
    wrong = client.post("/cases/new", data=form)
    assert wrong.status_code == 422
    assert "<html" in wrong.text and "Öppna ett ärende" in wrong.text, "the form, not a bare 422"
    errors = dict(re.findall(r'data-field="([a-z_]+)">([^<]*)<', wrong.text))
    assert set(errors) == {
        "personnummer",
        "child_name",
        "municipality",
        "referring_unit",
        "referral_date",
        "consenting",
    }
    assert "kontrollsiffran" in errors["personnummer"]
    assert "Högst 120 tecken" in errors["child_name"]
    assert 'value="20210517-1235"' in wrong.text, "the personnummer is kept"
    assert 'value="2027-01-01"' in wrong.text
    field = re.search(r'<input id="f-personnummer"[^>]*>', wrong.text)
    assert field is not None
    assert 'autocomplete="off"' in field.group(0) and 'maxlength="20"' in field.group(0)
    assert re.search(r'<input id="f-guardians"[^>]*min="1"', wrong.text)
    form.update(
        personnummer=personnummer().digits,
        child_name="Testa Testsson",
        municipality="Umeå",
        referring_unit="BHV Ålidhem",
        referral_date="2026-03-02",
        consenting="2",
    )
    opened = client.post("/cases/new", data=form, follow_redirects=False)
    assert opened.status_code == 303


def test_the_case_page_in_swedish_with_steps_timeline_and_the_audit_in_stockholm_time(
    sqlite_web: Web,
) -> None:
    case = sqlite_web.open_case()
    client = sqlite_web.client("coord-1")
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert '<svg class="timeline"' in page.text and 'class="line-140"' in page.text
    assert 'data-step="feedback_meeting"' in page.text
    assert "Läkarbesök" in page.text and "efter Teamkonferens" in page.text
    assert "(logoped)" in page.text and "speech_therapist" not in _visible(page.text)
    assert f'hx-get="/cases/{case.id}/audit"' in page.text
    trail = client.get(f"/cases/{case.id}/audit", headers={"HX-Request": "true"})
    assert "Europe/Stockholm" in trail.text
    assert trail.text.count('data-action="case.show"') == 1
    assert "öppnade ärendet" in trail.text
    # the fixed clock stands at 10:00 Stockholm: the trail shows 10:00, not 09:00 UTC
    assert "2026-03-02 10:00" in trail.text


def test_english_is_the_alternative_by_choice_or_by_the_browser(sqlite_web: Web) -> None:
    case = sqlite_web.open_case()
    client = sqlite_web.client("coord-1")
    english = client.get(f"/cases/{case.id}", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text and "Medical history and examination" in english.text
    swedish = client.get(f"/cases/{case.id}", headers={"Accept-Language": "sv,en;q=0.5"})
    assert "Läkarbesök" in swedish.text
    chosen = client.post(
        "/language",
        data={
            "language": "en",
            "back": f"/cases/{case.id}",
            "csrf_token": client.headers["X-CSRF-Token"],
        },
        follow_redirects=False,
    )
    assert (chosen.status_code, chosen.headers["location"]) == (303, f"/cases/{case.id}")
    assert "Pathway steps" in client.get(f"/cases/{case.id}").text
    with sqlite_web.ctx.uow_factory() as uow:
        stored = uow.session.execute(  # type: ignore[attr-defined]
            text("SELECT language FROM web_preference WHERE user_id = 'coord-1'")
        ).scalar_one()
    assert stored == "en"
    elsewhere = sqlite_web.client("coord-1")  # another browser: the login's choice follows
    assert "Pathway steps" in elsewhere.get(f"/cases/{case.id}").text


def test_the_worklist_shows_times_in_order_names_and_changes_without_a_reload(
    sqlite_web: Web,
) -> None:
    case = sqlite_web.open_case()
    coordinator = sqlite_web.client("coord-1")
    coordinator.post(f"/api/v1/cases/{case.id}/steps/intake/complete", json={})
    physician = sqlite_web.client("md-1")
    page = physician.get("/worklist")
    assert f'data-case="{case.id}" data-step="medical_exam"' in page.text
    assert 'hx-trigger="worklist-changed from:body"' in page.text
    assert "hx-confirm=" in page.text and "Klarmarkera" in page.text
    done = physician.post(
        f"/worklist/{case.id}/medical_exam/complete",
        data={"note": "normal findings"},
        headers={"HX-Request": "true"},
    )
    assert done.status_code == 200
    assert done.headers["HX-Trigger"] == "worklist-changed"
    assert "”Läkarbesök” är nu klar" in done.text and 'data-step="cognitive_test"' in done.text
    assert "medical_exam" not in physician.get("/worklist/items").text


def test_an_error_lands_next_to_the_row_that_failed_in_the_error_style(sqlite_web: Web) -> None:
    case = sqlite_web.open_case()
    client = sqlite_web.client("coord-1")
    held = client.post(
        f"/worklist/{case.id}/intake/hold", data={"note": ""}, headers={"HX-Request": "true"}
    )
    assert held.status_code == 422
    assert held.headers["HX-Retarget"] == f"#msg-{case.id}-intake"
    assert 'class="error"' in held.text and "ange skälet till att steget vilar" in held.text
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


def test_today_s_appointments_come_in_time_order_with_the_other_participants(
    sqlite_web: Web,
) -> None:
    from essence.services import scheduling

    first = sqlite_web.open_case(child_name="Ada Först")
    second = sqlite_web.open_case(child_name="Bo Sedan")
    for case in (first, second):
        steps.complete_step(sqlite_web.ctx, case.id, "intake", "")
    scheduling.plan_schedule(
        sqlite_web.ctx, budget_s=2.0, use_cpsat=False, workers=1, deterministic=True
    )
    items = steps.worklist(sqlite_web.ctx.as_user("psy-1"), "psy-1")
    booked = [i for i in items if i.starts_at is not None]
    assert booked, "the plan gave psy-1 appointments"
    html = sqlite_web.client("psy-1").get("/worklist").text
    times = re.findall(r'data-testid="time">(\d\d:\d\d)–', html)
    assert times, "appointments show their clock times"
    joint = [i for i in items if i.joint_with]
    if joint:
        assert 'data-testid="joint">med ' in html


def test_a_replan_result_says_which_cases_changed_while_planning() -> None:
    """The re-plan page counts the cases someone changed while the solver ran (they are
    shown as booked now, re-planned alone or left as they are), in Swedish."""
    from types import SimpleNamespace

    from essence.web.render import templates

    view = scheduling.PlanView(
        method="cpsat", status="FEASIBLE", objective=10, best_bound=9, gap=0.1,
        wall_seconds=1.0, greedy_objective=12, booked=True, moved=0, staff_km=0,
        appointments=[], not_scheduled_yet=[], cases=[],
        replanned_alone=["c-1"], not_replanned=["c-2"],
    )  # fmt: skip
    run = SimpleNamespace(finished=True, error=None, id="ab", done=1, total=1)
    with i18n.speaking("sv"):
        html = templates.env.get_template("_replan_run.html").render(run=run, plan=view)
    assert "Ärenden som ändrades under planeringen: 2" in html
    quiet = view.model_copy(update={"replanned_alone": [], "not_replanned": []})
    with i18n.speaking("sv"):
        html = templates.env.get_template("_replan_run.html").render(run=run, plan=quiet)
    assert "replan-changed" not in html
