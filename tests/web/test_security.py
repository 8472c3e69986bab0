"""Security of the web app: CSRF, cookies, headers, rate limits, access and personal data.

The rules of who may see what live in the services; these tests check the web edge keeps them.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import text

from essence.web.app import create_app
from essence.web.security import SESSION_COOKIE
from tests.factories import personnummer
from tests.web.conftest import BASE_URL, Web, sign_in


def test_changes_without_the_csrf_token_are_refused(sqlite_web: Web) -> None:
    case = sqlite_web.open_case()
    client = sqlite_web.client("coord-1")
    token = client.headers.pop("X-CSRF-Token")
    no_header = client.post(f"/api/v1/cases/{case.id}/steps/intake/start")
    assert no_header.status_code == 403
    assert "X-CSRF-Token" in no_header.json()["detail"]
    wrong = client.post(
        f"/api/v1/cases/{case.id}/steps/intake/start", headers={"X-CSRF-Token": "x" + token}
    )
    assert wrong.status_code == 403
    form = client.post(f"/worklist/{case.id}/intake/start", data={"csrf_token": "forged"})
    assert form.status_code == 403
    assert client.get(f"/api/v1/cases/{case.id}").json()["steps"][0]["state"] == "ready"


def test_the_login_form_needs_its_csrf_token(sqlite_web: Web) -> None:
    client = sqlite_web.client()
    password = sqlite_web.passwords["coord-1"]
    forged = client.post("/login", data={"user_id": "coord-1", "password": password})
    assert forged.status_code == 403
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    signed_in = client.post(
        "/login",
        data={"user_id": "coord-1", "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/dashboard")


def test_the_session_cookie_is_http_only_secure_and_same_site(sqlite_web: Web) -> None:
    client = sqlite_web.client()
    response = client.post(
        "/api/v1/session",
        json={"user_id": "psy-1", "password": sqlite_web.passwords["psy-1"]},
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert {"HttpOnly", "Secure", "SameSite=strict"} <= {p.strip() for p in cookie.split(";")}
    assert "psy-1" not in cookie.split(";")[0], "the cookie is a random token, not the user"


def test_every_response_has_the_security_headers(sqlite_web: Web) -> None:
    client = sqlite_web.client("coord-1")
    for path in ("/login", "/dashboard", "/api/v1/cases", "/api/v1/cases/c-none"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"


def test_sign_in_attempts_are_rate_limited_per_login(sqlite_web: Web) -> None:
    client = sqlite_web.client()
    statuses = [
        client.post("/api/v1/session", json={"user_id": "md-1", "password": f"wrong-{i}"})
        for i in range(6)
    ]
    assert [r.status_code for r in statuses] == [401] * 5 + [429]
    assert statuses[-1].json()["title"] == "Too many requests"
    assert 1 <= int(statuses[-1].headers["retry-after"]) <= 60
    right = client.post(
        "/api/v1/session", json={"user_id": "md-1", "password": sqlite_web.passwords["md-1"]}
    )
    assert right.status_code == 429, "even the right password waits out the window"


def test_failed_sign_ins_are_audited_without_the_password(sqlite_web: Web) -> None:
    sqlite_web.client().post(
        "/api/v1/session", json={"user_id": "psy-2", "password": "secret-guess-123"}
    )
    with sqlite_web.ctx.uow_factory() as uow:
        rows = uow.session.execute(  # type: ignore[attr-defined]
            text("SELECT user_id, outcome, detail FROM audit_event WHERE action = 'auth.login'")
        ).all()
        stored = uow.session.execute(  # type: ignore[attr-defined]
            text("SELECT password_hash FROM app_user WHERE id = 'psy-2'")
        ).scalar_one()
    assert [tuple(r) for r in rows] == [("psy-2", "denied", "")]
    assert stored.startswith("$argon2id$")
    assert sqlite_web.passwords["psy-2"] not in stored


def test_a_clinician_gets_403_on_the_page_of_a_case_they_are_not_in(sqlite_web: Web) -> None:
    case = sqlite_web.open_case()
    assigned = {who for s in case.steps for who in s.assignees.values()}
    outsider = next(p for p in ("psy-1", "psy-2", "psy-3") if p not in assigned)
    page = sqlite_web.client(outsider).get(f"/cases/{case.id}")
    assert page.status_code == 403
    assert case.child_name not in page.text
    assert sqlite_web.client("md-1").get(f"/cases/{case.id}").status_code == 200


def test_pages_need_a_session_and_return_to_the_page_asked_for(sqlite_web: Web) -> None:
    response = sqlite_web.client().get("/dashboard", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/login?next=/dashboard",
    )


def test_an_expired_session_sends_htmx_to_the_login_with_hx_redirect(sqlite_web: Web) -> None:
    client = sqlite_web.client()
    answer = client.get(
        "/worklist/items",
        headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/worklist?x=1"},
    )
    assert answer.status_code == 401
    assert answer.headers["hx-redirect"] == "/login?next=/worklist%3Fx%3D1"
    assert "<html" not in answer.text, "no login page inside the worklist"


def test_sign_in_returns_only_to_local_pages(sqlite_web: Web) -> None:
    for asked, landing in (
        ("/cases/new", "/cases/new"),
        ("//evil.example/x", "/dashboard"),
        ("https://evil.example/", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
    ):
        client = sqlite_web.client()
        form = client.get("/login", params={"next": asked})
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf is not None
        signed = client.post(
            "/login",
            data={"user_id": "coord-1", "password": sqlite_web.passwords["coord-1"],
                  "csrf_token": csrf.group(1), "next": asked},
            follow_redirects=False,
        )  # fmt: skip
        assert (signed.status_code, signed.headers["location"]) == (303, landing)


def test_signing_in_again_ends_the_browsers_previous_session(sqlite_web: Web) -> None:
    client = sqlite_web.client("coord-1")
    first = client.cookies[SESSION_COOKIE]
    sign_in(client, "psy-1", sqlite_web.passwords["psy-1"])
    assert client.cookies[SESSION_COOKIE] != first
    replay = sqlite_web.client()
    replay.cookies.set(SESSION_COOKIE, first)
    assert replay.get("/api/v1/cases").status_code == 401


def test_sessions_survive_a_restart_of_the_server(sqlite_web: Web) -> None:
    client = sqlite_web.client("coord-1")
    cookie, csrf = client.cookies[SESSION_COOKIE], client.headers["X-CSRF-Token"]
    restarted = TestClient(create_app(sqlite_web.url, clock=sqlite_web.clock), base_url=BASE_URL)
    restarted.cookies.set(SESSION_COOKIE, cookie)
    restarted.headers["X-CSRF-Token"] = csrf
    assert restarted.get("/api/v1/cases").status_code == 200
    assert restarted.get("/dashboard").status_code == 200
    with sqlite_web.ctx.uow_factory() as uow:
        stored = (
            uow.session.execute(  # type: ignore[attr-defined]
                text("SELECT token_hash FROM web_session")
            )
            .scalars()
            .all()
        )
    assert cookie not in stored, "only the token's hash is stored"


def test_redirects_never_take_their_host_from_the_host_header(sqlite_web: Web) -> None:
    client = sqlite_web.client("coord-1")
    for path in ("/dashboard/", "/", "/login/", "/cases/new/"):
        answer = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
        location = answer.headers.get("location", "")
        assert "evil.example" not in location and not location.startswith("http"), (path, location)


def test_api_docs_are_off_unless_enabled_and_never_load_third_party_code(
    sqlite_web: Web,
) -> None:
    assert sqlite_web.client().get("/api/docs").status_code == 404
    enabled = TestClient(
        create_app(sqlite_web.url, clock=sqlite_web.clock, api_docs_enabled=True),
        base_url=BASE_URL,
    )
    docs = enabled.get("/api/docs")
    assert docs.status_code == 200 and "/api/v1/cases" in docs.text
    assert "unsafe-inline" not in docs.headers["content-security-policy"]
    assert not re.search(r'(src|href)="(https?:)?//', docs.text), "no third-party origin"


def test_signing_out_ends_the_session_on_the_server(sqlite_web: Web) -> None:
    client = sqlite_web.client("coord-1")
    cookie = client.cookies[SESSION_COOKIE]
    assert client.delete("/api/v1/session").status_code == 204
    replay = sqlite_web.client()
    replay.cookies.set(SESSION_COOKIE, cookie)
    assert replay.get("/api/v1/cases").status_code == 401


def test_a_personnummer_never_appears_in_a_url_or_in_clear_on_a_page(sqlite_web: Web) -> None:
    number = personnummer()
    client = sqlite_web.client("coord-1")
    page = client.get("/cases/new")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    opened = client.post(
        "/cases/new",
        data={
            "csrf_token": csrf.group(1),
            "personnummer": number.digits,
            "child_name": "Testa Testsson",
            "municipality": "Umeå",
            "referring_unit": "BHV Ålidhem",
            "referral_date": "2026-03-02",
            "guardians": "2",
            "consenting": "2",
        },
        follow_redirects=False,
    )
    assert opened.status_code == 303
    location = opened.headers["location"]
    assert re.fullmatch(r"/cases/c-[0-9a-f]{10}", location)
    pages = [client.get(location).text, client.get("/dashboard").text]
    for html in pages:
        assert number.digits not in html
        assert f"{number.digits[:8]}-{number.digits[8:]}" not in html
        assert number.masked in html
        for url in re.findall(r'(?:href|action|hx-get|hx-post)="([^"]*)"', html):
            # not even the birth date, long or short (the case id is random hex)
            for part in (number.digits[:8], number.digits[2:8]):
                assert part not in url, url
