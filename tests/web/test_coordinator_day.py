"""A coordinator's (and a clinician's) whole day in a real browser, one test per action.

Every action runs through the page as a person would (htmx, confirmation dialogs accepted),
on SQLite and on PostgreSQL, and the result is checked in the browser and in the services.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from essence.services import cases, scheduling
from tests.web.browser_support import Served, chromium, needs_chromium, seed_day, serve, signed_in

pytestmark = [needs_chromium, pytest.mark.timeout(300)]


@dataclass
class Day:
    """A served app after a coordinator's Monday, and the case ids of the story."""

    served: Served
    ids: dict[str, str]

    def case(self, name: str) -> Any:
        """The case as the services see it now."""
        return cases.show_case(self.served.web.ctx, self.ids[name])

    def step(self, name: str, key: str) -> Any:
        """One step of a case as the services see it now."""
        return next(s for s in self.case(name).steps if s.key == key)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def day(database_url: str) -> Iterator[Day]:
    """A fresh served app (SQLite and PostgreSQL) with the Monday's cases and plan."""
    with serve(database_url) as served:
        yield Day(served, seed_day(served.web))


def _case_page(browser: Any, day: Day, name: str, user: str = "coord-1") -> Any:
    page = signed_in(browser, day.served, user)
    page.goto(f"{day.served.base}/cases/{day.ids[name]}")
    page.evaluate("window.__notReloaded = true")
    return page


def _open_step(page: Any, key: str) -> Any:
    row = page.locator(f"tr[data-step={key}]")
    row.locator("summary").click()
    return row


def _swapped(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("[data-testid=done]")).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True, "htmx swapped the case, no reload"
    assert page.errors == []


def test_recording_each_guardians_consent_pauses_and_resumes_the_case(
    browser: Any, day: Day
) -> None:
    from playwright.sync_api import expect

    page = _case_page(browser, day, "waiting")
    expect(page.locator("[data-testid=guardian-2]")).to_have_attribute("data-status", "missing")
    page.locator("form[data-guardian='2'] button").click()
    _swapped(page)
    expect(page.locator("[data-testid=case-state]")).to_have_text("samtycke klart")
    assert day.case("waiting").consenting == 2
    page.locator("form[data-guardian='1'] button").click()
    expect(page.locator("[data-testid=case-state]")).to_have_attribute("data-state", "paused")
    expect(page.locator("[data-testid=consent]")).to_contain_text("pausad (samtycke saknas)")
    assert day.case("waiting").state == "paused"
    page.locator("form[data-guardian='1'] button").click()
    expect(page.locator("[data-testid=case-state]")).not_to_have_attribute("data-state", "paused")


def test_withdrawing_a_case_asks_first_and_cancels_its_steps(browser: Any, day: Day) -> None:
    from playwright.sync_api import expect

    page = _case_page(browser, day, "second")
    page.fill("#withdraw-reason", "family moved away")
    page.click("[data-testid=withdraw-form] button")
    _swapped(page)
    expect(page.locator("[data-testid=case-state]")).to_have_text("återtagen")
    assert day.case("second").state == "withdrawn"


def test_reassigning_a_step_shows_the_new_clinicians_name(browser: Any, day: Day) -> None:
    from playwright.sync_api import expect

    before = day.step("booked", "parent_interview").assignees["psychologist"]
    other = next(p for p in ("psy-1", "psy-2", "psy-3") if p != before)
    page = _case_page(browser, day, "booked")
    row = _open_step(page, "parent_interview")
    row.locator("select[name=clinician]").select_option(other)
    row.locator("button:has-text('Byt ansvarig')").click()
    _swapped(page)
    assert day.step("booked", "parent_interview").assignees["psychologist"] == other
    name = day.served.web.app.state.web.team_names("coord-1")[other]
    expect(page.locator("tr[data-step=parent_interview]")).to_contain_text(name)


def test_cancelling_a_step_as_not_needed_and_taking_it_back(browser: Any, day: Day) -> None:
    from playwright.sync_api import expect

    view = day.case("booked")
    key = next(s.key for s in view.steps if s.skippable and s.state in ("ready", "requested"))
    page = _case_page(browser, day, "booked")
    row = _open_step(page, key)
    row.locator(f"#cancel-{key}").fill("seen by BUP last month")
    row.locator("button:has-text('Ställ in steget')").click()
    _swapped(page)
    expect(page.locator(f"tr[data-step={key}] [data-state]").first).to_have_text(
        "inställd – behövs inte"
    )
    row = _open_step(page, key)
    row.locator(f"#revert-{key}").fill("cancelled the wrong step")
    row.locator("button:has-text('Återta steget')").click()
    expect(page.locator(f"tr[data-step={key}] [data-state]").first).not_to_have_text(
        "inställd – behövs inte"
    )
    assert day.step("booked", key).state in ("ready", "requested")


def test_an_action_that_fails_says_why_in_the_error_style_next_to_it(
    browser: Any, day: Day
) -> None:
    from playwright.sync_api import expect

    page = _case_page(browser, day, "booked")
    row = _open_step(page, "medical_exam")
    row.locator("button:has-text('Pausa')").click()
    error = row.locator("#msg-step-medical_exam [data-testid=action-error]")
    expect(error).to_contain_text(re.compile("ange ett skäl", re.IGNORECASE))
    assert "error" in (error.get_attribute("class") or "")
    expect(page.locator("[data-testid=done]")).to_have_count(0)


def test_pausing_and_resuming_a_step(browser: Any, day: Day) -> None:
    from playwright.sync_api import expect

    page = _case_page(browser, day, "booked")
    row = _open_step(page, "medical_exam")
    row.locator("#hold-medical_exam").fill("the child is ill")
    row.locator("button:has-text('Pausa')").click()
    _swapped(page)
    state = page.locator("tr[data-step=medical_exam] [data-state]").first
    expect(state).to_have_text("vilande")
    _open_step(page, "medical_exam").locator("button:has-text('Återuppta')").click()
    expect(state).to_have_text("redo")


def test_marking_questionnaires_returned(browser: Any, day: Day) -> None:
    from playwright.sync_api import expect

    page = _case_page(browser, day, "booked")
    _open_step(page, "questionnaires").locator("[data-testid=returned-questionnaires]").click()
    _swapped(page)
    expect(page.locator("tr[data-step=questionnaires] [data-state]").first).to_have_text("klar")
    assert day.step("booked", "questionnaires").state == "completed"


def test_starting_a_replan_and_watching_it_finish(browser: Any, day: Day) -> None:
    from playwright.sync_api import expect

    page = signed_in(browser, day.served, "coord-1")
    page.goto(f"{day.served.base}/schedule")
    page.select_option("#f-budget", "5")
    page.click("[data-testid=replan-form] button")
    expect(page.locator("[data-testid=replan-progress] progress")).to_have_count(1)
    expect(page.locator("[data-testid=replan-result]")).to_be_visible(timeout=90_000)
    assert int(page.locator("[data-testid=replan-booked]").inner_text()) > 0
    assert page.errors == []


def test_printing_the_family_letter(browser: Any, day: Day) -> None:
    from playwright.sync_api import expect

    page = _case_page(browser, day, "booked")
    page.click("[data-testid=letter-link]")
    letter = page.locator("[data-testid=letter]")
    expect(letter).to_contain_text("Till vårdnadshavarna för Wilma")
    booked = scheduling.show_schedule(day.served.web.ctx, case_id=day.ids["booked"])
    first = min((a for a in booked if a.family_facing), key=lambda a: (a.day, a.start))
    expect(letter).to_contain_text(f"{first.start}–{first.end}")
    page.emulate_media(media="print")
    assert page.locator("header.top").is_hidden()


def test_downloading_a_clinicians_calendar(browser: Any, day: Day) -> None:
    page = signed_in(browser, day.served, "coord-1")
    page.goto(f"{day.served.base}/team")
    clinician = day.step("booked", "medical_exam").assignees["physician"]
    with page.expect_download() as download_info:
        page.click(f"[data-testid=ics-{clinician}]")
    download = download_info.value
    assert download.suggested_filename == f"essence-{clinician}.ics"
    body = Path(download.path()).read_text(encoding="utf-8")
    assert body.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in body
    assert "Wilma" not in body, "a clinician's calendar carries case ids, not names"


def test_finding_a_child_while_a_parent_is_on_the_phone(browser: Any, day: Day) -> None:
    from playwright.sync_api import expect

    page = signed_in(browser, day.served, "coord-1")
    page.fill("#q", "webbs")
    results = page.locator("#search-results")
    expect(results).to_contain_text("Wilma Webbsson")
    expect(results).not_to_contain_text("Nils Nilsson")
    assert "webbs" not in page.url


def test_completing_asks_first_and_can_be_undone(browser: Any, day: Day) -> None:
    from playwright.sync_api import expect

    physician = day.step("booked", "medical_exam").assignees["physician"]
    page = signed_in(browser, day.served, physician)
    page.goto(f"{day.served.base}/worklist")
    asked: list[str] = []
    page.on("dialog", lambda dialog: asked.append(dialog.message))
    row = page.locator(f"tr[data-case='{day.ids['booked']}'][data-step=medical_exam]")
    row.locator("input[name=note]").first.fill("normal findings")
    row.locator("button:has-text('Klarmarkera')").click()
    expect(page.locator("[data-testid=change]")).to_contain_text("är nu klar")
    assert asked and "Läkarbesök" in asked[0] and "Wilma Webbsson" in asked[0]
    assert day.step("booked", "medical_exam").state == "completed"
    page.click("[data-testid=undo]")
    expect(page.locator("[data-testid=change]")).to_contain_text("Ångrat")
    assert day.step("booked", "medical_exam").state == "ready"
    expect(row).to_have_count(1)


def test_an_expired_session_sends_the_page_to_sign_in_and_back(browser: Any, day: Day) -> None:
    from playwright.sync_api import expect

    page = signed_in(browser, day.served, "coord-1")
    page.goto(f"{day.served.base}/cases/{day.ids['booked']}")
    page.context.clear_cookies()
    _open_step(page, "questionnaires").locator("[data-testid=returned-questionnaires]").click()
    expect(page.locator("h1")).to_have_text("Logga in")
    assert "next=" in page.url
    page.fill("input[name=user_id]", "coord-1")
    page.fill("input[name=password]", day.served.web.passwords["coord-1"])
    page.click("form.narrow button[type=submit]")
    expect(page.locator("[data-testid=case-id]")).to_have_text(day.ids["booked"])
