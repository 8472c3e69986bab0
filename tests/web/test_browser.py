"""The web app in a real browser: Playwright drives Debian's Chromium against uvicorn on loopback.

One story, in order: the coordinator signs in and opens a case, a clinician completes a step on
the worklist, the next step shows on the dashboard, an outsider gets 403. Screenshots of each
page go to artifacts/screenshots/.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from tests.factories import FixedClock, personnummer
from tests.web.conftest import Web, build_web

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium"
    ),
    pytest.mark.timeout(120),
]


@dataclass
class Served:
    """The app on a loopback port, and the database behind it."""

    web: Web
    base: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """uvicorn in a thread on a free loopback port, over an initialised SQLite file."""
    import uvicorn
    from argon2 import PasswordHasher

    from essence.services import auth

    saved = auth._HASHER
    auth._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    clock = FixedClock(now=None)  # type: ignore[arg-type]
    clock.set(date(2026, 3, 2))
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'essence.db'}"
    web = build_web(url, clock)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(web.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield Served(web, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)
    auth._HASHER = saved


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium through Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _page(browser: object, served: Served, user_id: str) -> object:
    """A fresh browser context signed in as `user_id` through the login form."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    # Script errors and CSP refusals count; a 4xx status the test asks for does not.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors  # type: ignore[attr-defined]
    page.goto(f"{served.base}/login")
    page.fill("input[name=user_id]", user_id)
    page.fill("input[name=password]", served.web.passwords[user_id])
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=who]")
    return page


def _shot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_a_case_from_referral_to_the_next_ready_step_in_the_browser(
    browser: object, served: Served
) -> None:
    from playwright.sync_api import expect

    coordinator = _page(browser, served, "coord-1")
    expect(coordinator.locator("h1")).to_have_text("Open cases")
    _shot(coordinator, "01-coordinator-dashboard-empty")

    coordinator.click("text=Open a case >> nth=0")
    coordinator.fill("#f-personnummer", "20210517-1235")
    coordinator.fill("#f-child_name", "Wilma Webbsson")
    coordinator.select_option("#f-municipality", "Vilhelmina")
    coordinator.fill("#f-referring_unit", "BHV Vilhelmina")
    coordinator.click("button:has-text('Open case')")
    expect(coordinator.locator("[data-field=personnummer]")).to_contain_text("check digit")
    _shot(coordinator, "02-open-case-field-error")

    number = personnummer()
    coordinator.fill("#f-personnummer", number.digits)
    coordinator.click("button:has-text('Open case')")
    expect(coordinator.locator("[data-testid=case-state]")).to_have_text("consented")
    case_id = coordinator.locator("[data-testid=case-id]").inner_text()
    assert coordinator.url.endswith(f"/cases/{case_id}")
    assert number.digits not in coordinator.url
    expect(coordinator.locator("[data-testid=audit]")).to_contain_text("case.show")
    assert coordinator.locator("svg.timeline rect.bar").count() >= 1
    _shot(coordinator, "03-case-page")

    coordinator.goto(f"{served.base}/worklist")
    coordinator.evaluate("window.__notReloaded = true")
    row = coordinator.locator(f"tr[data-case='{case_id}'][data-step='intake']")
    row.locator("input[name=note]").first.fill("both guardians met")
    row.locator("button:has-text('Complete')").click()
    expect(coordinator.locator("[data-testid=change]")).to_contain_text("is now completed")
    expect(row).to_have_count(0)
    assert coordinator.evaluate("window.__notReloaded") is True, "htmx swapped, no reload"

    case = served.web.ctx
    from essence.services.cases import show_case

    physician_id = next(s for s in show_case(case, case_id).steps if s.key == "medical_exam")
    clinician = _page(browser, served, physician_id.assignees["physician"])
    expect(clinician.locator("h1")).to_have_text("My worklist")
    step = clinician.locator(f"tr[data-case='{case_id}'][data-step='medical_exam']")
    expect(step).to_have_count(1)
    _shot(clinician, "04-clinician-worklist")
    clinician.evaluate("window.__notReloaded = true")
    step.locator("input[name=note]").first.fill("normal findings")
    step.locator("button:has-text('Complete')").click()
    expect(clinician.locator("[data-testid=change]")).to_contain_text("cognitive_test")
    expect(step).to_have_count(0)
    assert clinician.evaluate("window.__notReloaded") is True
    _shot(clinician, "05-clinician-step-completed")

    coordinator.goto(f"{served.base}/dashboard")
    line = coordinator.locator(f"tr[data-case='{case_id}']")
    expect(line).to_contain_text("cognitive_test ←")
    _shot(coordinator, "06-coordinator-dashboard-next-step-ready")

    assigned = {who for s in show_case(case, case_id).steps for who in s.assignees.values()}
    outsider_id = next(p for p in ("psy-1", "psy-2", "psy-3") if p not in assigned)
    outsider = _page(browser, served, outsider_id)
    response = outsider.goto(f"{served.base}/cases/{case_id}")
    assert response is not None and response.status == 403
    expect(outsider.locator(".problem")).to_contain_text("permission denied")
    _shot(outsider, "07-outsider-403")

    planner = _page(browser, served, "planner-1")
    expect(planner.locator("h1")).to_have_text("Capacity scenario")
    planner.fill("#f-children_per_year", "300")
    planner.fill("#f-years", "2")
    planner.fill("#f-replications", "10")
    planner.click("button:has-text('Run scenario')")
    expect(planner.locator("[data-testid=progress] progress")).to_have_count(1)
    _shot(planner, "08-planner-progress")
    expect(planner.locator("[data-testid=results]")).to_have_count(1, timeout=60_000)
    expect(planner.locator("[data-testid=equity]")).to_contain_text("municipality: Umeå")
    _shot(planner, "09-planner-results")
    planner.goto(f"{served.base}/report")
    expect(planner.locator("[data-testid=equity]")).to_contain_text("fewer than 5 cases")
    _shot(planner, "10-planner-lead-times")

    for page in (coordinator, clinician, outsider, planner):
        assert page.errors == [], page.errors  # type: ignore[attr-defined]
