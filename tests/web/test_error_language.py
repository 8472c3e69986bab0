"""The engine's errors speak the user's language: pages, htmx fragments, form slots, problems.

A Swedish coordinator reads Swedish (step titles, state words, field labels), never a raw
key, an English reason, a login id or a personnummer; English is there by choice; the API's
`detail` follows Accept-Language while `type`, `status` and `field` stay the same.
"""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient

from essence.domain.errors import (
    EssenceError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PlanCheckFailed,
)
from essence.domain.messages import N_
from essence.web import errors_i18n, i18n
from tests.factories import personnummer
from tests.web.conftest import Web

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
SWEDISH = {"Accept-Language": "sv-SE,sv;q=0.9"}
HTMX = {"HX-Request": "true"}
#: Words of the engine that must not reach a Swedish page: keys, English states and reasons.
RAW = (
    "medical_exam",
    "intake",
    "requested",
    "in-progress",
    "on-hold",
    "completed",
    "cannot go from",
    "not found",
    "permission denied",
    "may not",
    "prerequisites",
    "is before birth",
)


def _problem(html: str) -> str:
    """The text of the error section (page or fragment), tags removed."""
    found = re.search(r'<section class="problem".*?</section>', html, re.S)
    assert found is not None, html[:500]
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split())


def _action_error(html: str) -> str:
    found = re.search(r'data-testid="action-error">([^<]*)<', html)
    assert found is not None, html[:500]
    return found.group(1)


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def _assert_swedish(text: str) -> None:
    for raw in RAW:
        assert raw not in text, f"{raw!r} in {text!r}"


def test_an_illegal_step_transition_on_the_case_page_is_swedish_with_title_and_states(
    web: Web,
) -> None:
    case = web.open_case()
    coordinator = web.client("coord-1")
    done = coordinator.post(f"/api/v1/cases/{case.id}/steps/intake/complete", json={})
    assert done.status_code == 200, done.text
    held = coordinator.post(
        f"/cases/{case.id}/actions/hold", data={"step": "intake", "reason": "sjuk"}, headers=HTMX
    )
    assert held.status_code == 409
    assert held.headers["HX-Retarget"] == "#msg-step-intake"
    said = _action_error(held.text)
    assert said == (
        "Steget ”Inskrivning och samtycke (båda vårdnadshavarna)” kan inte gå från klar till "
        "vilande (det är redan klart)."
    )
    _assert_swedish(said)
    page = coordinator.post(
        f"/cases/{case.id}/actions/hold", data={"step": "intake", "reason": "sjuk"}
    )
    assert page.status_code == 409 and '<html lang="sv">' in page.text
    assert "från klar till vilande" in _problem(page.text)
    _assert_swedish(_problem(page.text))


def test_a_step_that_cannot_start_yet_says_so_in_swedish_on_the_worklist(web: Web) -> None:
    case = web.open_case()
    coordinator = web.client("coord-1")
    started = coordinator.post(f"/worklist/{case.id}/medical_exam/start", headers=HTMX)
    assert started.status_code == 409
    said = _action_error(started.text)
    assert said.startswith("Steget ”Läkarbesök” kan inte gå från väntar till pågår"), said
    assert said.endswith("(stegen före det är inte klara än).")
    _assert_swedish(said)


def test_english_by_choice_gives_the_same_errors_in_english(web: Web) -> None:
    case = web.open_case()
    coordinator = web.client("coord-1")
    started = coordinator.post(
        f"/worklist/{case.id}/medical_exam/start", headers={**HTMX, **ENGLISH}
    )
    said = _action_error(started.text)
    assert said == (
        "The step “Medical history and examination” cannot go from waiting to in progress "
        "(its prerequisites are not completed yet)."
    )
    missing = coordinator.get("/cases/c-missing", headers=ENGLISH)
    assert missing.status_code == 404
    assert _problem(missing.text) == "404 · Not found Case c-missing was not found."


def test_a_value_the_service_refuses_lands_in_swedish_under_its_field(sqlite_web: Web) -> None:
    client = sqlite_web.client("coord-1")
    child = personnummer(date(2021, 5, 17))
    form = {
        "csrf_token": _csrf(client, "/cases/new"),
        "personnummer": child.digits,
        "child_name": "Testa Testsson",
        "municipality": "Umeå",
        "referring_unit": "BHV Ålidhem",
        "referral_date": "2020-01-10",
        "guardians": "2",
        "consenting": "2",
    }
    refused = client.post("/cases/new", data=form)
    assert refused.status_code == 422
    errors = dict(re.findall(r'data-field="([a-z_]+)">([^<]*)<', refused.text))
    assert errors == {"referral_date": "är före födseln"}
    form["referral_date"] = "2026-03-02"
    assert client.post("/cases/new", data=form, follow_redirects=False).status_code == 303
    again = client.post("/cases/new", data=form)
    errors = dict(re.findall(r'data-field="([a-z_]+)">([^<]*)<', again.text))
    assert list(errors) == ["personnummer"]
    assert errors["personnummer"].startswith("Barnet har redan ett öppet ärende: c-")
    assert child.digits not in errors["personnummer"]


def test_a_missing_case_is_a_swedish_404_page(sqlite_web: Web) -> None:
    client = sqlite_web.client("coord-1")
    missing = client.get("/cases/c-missing")
    assert missing.status_code == 404
    assert _problem(missing.text) == "404 · Finns inte Ärende c-missing finns inte."
    fragment = client.get("/cases/c-missing", headers=HTMX)
    assert "Ärende c-missing finns inte." in _problem(fragment.text)
    malformed = client.get("/cases/c%20missing")
    assert malformed.status_code == 422
    assert _problem(malformed.text).endswith("(Ärende).") and "case_id" not in malformed.text


def test_a_refusal_names_the_reason_in_swedish_without_login_ids(sqlite_web: Web) -> None:
    case = sqlite_web.open_case()
    planner = sqlite_web.client("planner-1")
    refused = planner.get(f"/cases/{case.id}")
    assert refused.status_code == 403
    said = _problem(refused.text)
    assert "Behörighet saknas: planerare ser bara sammanställningar (försöket är loggat)." in said
    assert "planner-1" not in said
    _assert_swedish(said)


def test_api_problem_detail_follows_accept_language_and_the_rest_stays_stable(
    web: Web,
) -> None:
    case = web.open_case()
    coordinator = web.client("coord-1")
    path = f"/api/v1/cases/{case.id}/steps/medical_exam/start"
    english = coordinator.post(path)
    swedish = coordinator.post(path, headers=SWEDISH)
    assert english.status_code == swedish.status_code == 409
    assert english.headers["content-type"] == "application/problem+json"
    assert english.headers["content-language"] == "en"
    assert swedish.headers["content-language"] == "sv"
    en, sv = english.json(), swedish.json()
    assert {k: v for k, v in en.items() if k != "detail"} == {
        k: v for k, v in sv.items() if k != "detail"
    }
    assert en["type"] == "/problems/not-allowed-in-this-state"
    assert en["detail"] == (
        "step medical_exam: cannot go from requested to in-progress "
        "(its prerequisites are not completed yet)"
    )
    assert sv["detail"].startswith("Steget ”Läkarbesök” kan inte gå från väntar till pågår")
    _assert_swedish(sv["detail"])
    bad = {
        "personnummer": personnummer().digits,
        "child_name": "Testa Testsson",
        "municipality": "Umeå",
        "referring_unit": "BHV Ålidhem",
        "referral_date": "2020-01-10",
        "consenting": 2,
    }
    refused = coordinator.post("/api/v1/cases", json=bad, headers=SWEDISH).json()
    assert refused["field"] == "referral date", "machine-readable, the same in every language"
    assert refused["detail"] == "Remissdatum: 2020-01-10: är före födseln"
    assert bad["personnummer"] not in str(refused)
    assert coordinator.post("/api/v1/cases", json=bad).json()["detail"] == (
        "referral date: 2020-01-10: is before birth"
    )


def test_an_action_a_withdrawn_case_refuses_is_said_without_bending_the_state_word(
    sqlite_web: Web,
) -> None:
    case = sqlite_web.open_case()
    coordinator = sqlite_web.client("coord-1")
    coordinator.post(f"/cases/{case.id}/actions/withdraw", data={"reason": "flyttat"}, headers=HTMX)
    refused = coordinator.post(
        f"/cases/{case.id}/actions/guardian", data={"guardian": "1", "given": "yes"}, headers=HTMX
    )
    assert refused.status_code == 409
    assert _action_error(refused.text) == (
        "Ärendet har status återtagen: det går inte att registrera samtycke."
    )


# --- the translator itself (no database) --------------------------------------------------


def test_marked_texts_are_translated_with_their_values_as_words() -> None:
    with i18n.speaking("sv"):
        assert errors_i18n.message(
            PermissionDenied(
                "planner-1",
                "see case c-1",
                N_(
                    "role %(role)s (needs %(roles)s)",
                    role="planner",
                    roles=("coordinator", "clinician"),
                ),
            )
        ) == (
            "Behörighet saknas: rollen planerare räcker inte (kräver samordnare, behandlare) "
            "(försöket är loggat)."
        )
        assert errors_i18n.message(
            InvalidInput("consent", 3, N_("must be 0..%(most)s", most=2))
        ) == ("Vårdnadshavare som samtyckt: 3: ska vara 0..2")
        assert errors_i18n.message(NotFound("user", "coord-1")) == "Användare finns inte."
        assert errors_i18n.message(NotFound("clinician", "md-1")) == "Behandlare finns inte."


def test_an_untranslated_reason_falls_back_to_english_and_never_crashes() -> None:
    with i18n.speaking("sv"):
        plain = InvalidInput("referral date", "2026-13-01", "not a date")
        assert errors_i18n.message(plain) == "Remissdatum: 2026-13-01: not a date"
        unknown = InvalidInput("municipality", "X", N_("no such place as %(place)s", place="X"))
        assert errors_i18n.message(unknown) == "Kommun: X: no such place as X"
        assert errors_i18n.message(EssenceError("something new happened")) == (
            "something new happened"
        )


def test_a_personnummer_is_never_repeated_in_a_message() -> None:
    digits = personnummer().digits
    with i18n.speaking("sv"):
        said = errors_i18n.message(InvalidInput("personnummer", digits, "does not fit"))
    assert digits not in said and said == "Personnummer: does not fit"


def test_a_stored_run_error_is_shown_in_the_language_of_whoever_reads_it() -> None:
    error = PlanCheckFailed(
        N_("the plan breaks a rule, nothing was booked: %(finding)s", finding="x")
    )
    stored = errors_i18n.for_later(error)
    assert len(stored) <= 300
    with i18n.speaking("sv"):
        assert errors_i18n.from_stored(stored).startswith("Planen bryter mot en regel")
        assert errors_i18n.from_stored("the re-plan failed; nothing was booked") == (
            "omplaneringen misslyckades; inget bokades"
        )
    with i18n.speaking("en"):
        assert errors_i18n.from_stored(stored).startswith("The plan breaks a scheduling rule")
    long = InvalidInput("note", "", N_("at most %(most)s", most="9" * 400))
    assert len(errors_i18n.for_later(long)) <= 300


def test_a_failed_background_run_shows_its_error_in_the_reader_s_language(web: Web) -> None:
    store = web.app.state.web.runs
    run = store.start("capacity", "planner-1", 1)
    refused = InvalidInput("replications", 1, N_("need at least 2 for confidence intervals"))
    store.fail(run.id, errors_i18n.for_later(refused))
    planner = web.client("planner-1")
    swedish = planner.get(f"/planner/runs/{run.id}", headers=HTMX)
    assert "Upprepningar: 1: behöver minst 2 för konfidensintervall" in _problem(swedish.text)
    english = planner.get(f"/planner/runs/{run.id}", headers={**HTMX, **ENGLISH})
    assert "Replications: 1: need at least 2 for confidence intervals" in _problem(english.text)
