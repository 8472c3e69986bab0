"""The web app in a real browser: Playwright drives Debian's Chromium against uvicorn on loopback.

One story, in order: the coordinator signs in and opens a case, a clinician completes a step on
the worklist, the next step shows on the dashboard, an outsider gets 403. Screenshots of each
page go to artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories import personnummer
from tests.web.browser_support import (
    Served,
    chromium,
    needs_chromium,
    serve,
    shot,
    signed_in,
)

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """uvicorn in a thread on a free loopback port, over an initialised SQLite file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'essence.db'}"
    with serve(url) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never a downloaded browser)."""
    with chromium() as launched:
        yield launched


def _page(browser: Any, served: Served, user_id: str) -> Any:
    return signed_in(browser, served, user_id, 1280)


def _shot(page: Any, name: str) -> None:
    shot(page, f"story-{name}")


def test_a_case_from_referral_to_the_next_ready_step_in_the_browser(
    browser: object, served: Served
) -> None:
    from playwright.sync_api import expect

    coordinator = _page(browser, served, "coord-1")
    expect(coordinator.locator("h1")).to_have_text("Öppna ärenden")
    _shot(coordinator, "01-coordinator-dashboard-empty")

    coordinator.click("nav >> text=Öppna ärende")
    coordinator.fill("#f-personnummer", "20210517-1235")
    coordinator.fill("#f-child_name", "Wilma Webbsson")
    coordinator.select_option("#f-municipality", "Vilhelmina")
    coordinator.fill("#f-referring_unit", "BHV Vilhelmina")
    coordinator.click("button:has-text('Öppna ärendet')")
    expect(coordinator.locator("[data-field=personnummer]")).to_contain_text("kontrollsiffran")
    expect(coordinator.locator("#f-personnummer")).to_have_value("20210517-1235")
    _shot(coordinator, "02-open-case-field-error")

    number = personnummer()
    coordinator.fill("#f-personnummer", number.digits)
    coordinator.fill("#f-consenting", "2")  # no consent is recorded unless it is entered
    coordinator.click("button:has-text('Öppna ärendet')")
    expect(coordinator.locator("[data-testid=case-state]")).to_have_text("samtycke klart")
    case_id = coordinator.locator("[data-testid=case-id]").inner_text()
    assert coordinator.url.endswith(f"/cases/{case_id}")
    assert number.digits not in coordinator.url
    expect(coordinator.locator("[data-testid=audit]")).to_contain_text("läste ärendet")
    assert coordinator.locator("svg.timeline rect.bar").count() >= 1
    _shot(coordinator, "03-case-page")

    coordinator.goto(f"{served.base}/worklist")
    coordinator.evaluate("window.__notReloaded = true")
    row = coordinator.locator(f"tr[data-case='{case_id}'][data-step='intake']")
    row.locator("input[name=note]").first.fill("both guardians met")
    row.locator("button:has-text('Klarmarkera')").click()
    expect(coordinator.locator("[data-testid=change]")).to_contain_text("är nu klar")
    expect(row).to_have_count(0)
    assert coordinator.evaluate("window.__notReloaded") is True, "htmx swapped, no reload"

    case = served.web.ctx
    from essence.services.cases import show_case

    physician_id = next(s for s in show_case(case, case_id).steps if s.key == "medical_exam")
    clinician = _page(browser, served, physician_id.assignees["physician"])
    expect(clinician.locator("h1")).to_contain_text("Min arbetslista")
    step = clinician.locator(f"tr[data-case='{case_id}'][data-step='medical_exam']")
    expect(step).to_have_count(1)
    _shot(clinician, "04-clinician-worklist")
    clinician.evaluate("window.__notReloaded = true")
    step.locator("input[name=note]").first.fill("normal findings")
    step.locator("button:has-text('Klarmarkera')").click()
    expect(clinician.locator("[data-testid=change]")).to_contain_text("Kognitiv testning")
    expect(step).to_have_count(0)
    assert clinician.evaluate("window.__notReloaded") is True
    _shot(clinician, "05-clinician-step-completed")

    coordinator.goto(f"{served.base}/dashboard")
    line = coordinator.locator(f"tr[data-case='{case_id}']")
    expect(line).to_contain_text("Kognitiv testning (WPPSI):")
    _shot(coordinator, "06-coordinator-dashboard-next-step-ready")

    assigned = {who for s in show_case(case, case_id).steps for who in s.assignees.values()}
    outsider_id = next(p for p in ("psy-1", "psy-2", "psy-3") if p not in assigned)
    outsider = _page(browser, served, outsider_id)
    response = outsider.goto(f"{served.base}/cases/{case_id}")
    assert response is not None and response.status == 403
    expect(outsider.locator(".problem")).to_contain_text("Behörighet saknas")
    _shot(outsider, "07-outsider-403")

    planner = _page(browser, served, "planner-1")
    expect(planner.locator("h1")).to_have_text("Kapacitetsscenario")
    planner.fill("#f-children_per_year", "300")
    planner.fill("#f-years", "2")
    planner.fill("#f-replications", "10")
    planner.click("button:has-text('Kör scenariot')")
    expect(planner.locator("[data-testid=progress] progress")).to_have_count(1)
    _shot(planner, "08-planner-progress")
    expect(planner.locator("[data-testid=results]")).to_have_count(1, timeout=60_000)
    expect(planner.locator("[data-testid=equity]")).to_contain_text("kommun: Umeå")
    _shot(planner, "09-planner-results")
    planner.goto(f"{served.base}/report")
    expect(planner.locator("[data-testid=equity]")).to_contain_text("färre än 5 – visas inte")
    _shot(planner, "10-planner-lead-times")

    for page in (coordinator, clinician, outsider, planner):
        assert page.errors == [], page.errors  # type: ignore[attr-defined]
