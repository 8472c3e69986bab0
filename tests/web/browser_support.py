"""Shared parts of the browser tests: uvicorn on loopback, Debian's Chromium, signed-in pages.

Playwright never downloads a browser: it drives /usr/bin/chromium. Screenshots go to
artifacts/screenshots/ in the repository.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from essence.services import cases, scheduling, steps
from tests.factories import FixedClock, referral
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
WIDTHS = (375, 768, 1366)
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium"
)


@dataclass
class Served:
    """The app on a loopback port, and the database behind it."""

    web: Web
    base: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def cheap_hashes() -> Iterator[None]:
    """Argon2 with small parameters while a served app signs people in."""
    from argon2 import PasswordHasher

    from essence.services import auth

    saved = auth._HASHER
    auth._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        yield
    finally:
        auth._HASHER = saved


@contextmanager
def serve(url: str, day: date = date(2026, 3, 2)) -> Iterator[Served]:
    """uvicorn in a thread on a free loopback port, over an initialised database at `url`."""
    import uvicorn

    clock = FixedClock(now=None)  # type: ignore[arg-type]
    clock.set(day)
    with cheap_hashes():
        web = build_web(url, clock)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                web.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        try:
            yield Served(web, f"http://127.0.0.1:{port}")
        finally:
            server.should_exit = True
            thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def signed_in(browser: Any, served: Served, user_id: str | None, width: int = 1366) -> Any:
    """A fresh browser context (Swedish) signed in as `user_id` through the login form."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="sv-SE", accept_downloads=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{served.base}/login")
    if user_id is not None:
        page.fill("input[name=user_id]", user_id)
        page.fill("input[name=password]", served.web.passwords[user_id])
        page.click("form.narrow button[type=submit]")
        page.wait_for_selector("[data-testid=who]")
        # htmx is a deferred script: typing before it has run sends no live search.
        page.wait_for_load_state("load")
    return page


def shot(page: Any, name: str) -> None:
    """A full-page screenshot in artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def seed_day(web: Web) -> dict[str, str]:
    """A coordinator's Monday: cases in several states, a plan booked, a step done.

    Returns:
        Case ids by role in the story: 'booked', 'waiting' (one consent of two), 'second',
        'inland'.
    """
    ctx = web.ctx
    booked = cases.open_case(ctx, referral(child_name="Wilma Webbsson", municipality="Umeå"))
    second = cases.open_case(ctx, referral(child_name="Sixten Svensson", municipality="Vännäs"))
    inland = cases.open_case(
        ctx, referral(child_name="Elsa Inlandsdotter", municipality="Sorsele", team_travels=True)
    )
    waiting = cases.open_case(
        ctx, referral(child_name="Nils Nilsson", municipality="Skellefteå", consenting=1)
    )
    for case_id in (booked.id, second.id, inland.id):
        steps.complete_step(ctx, case_id, "intake", "both guardians met")
    scheduling.plan_schedule(ctx, budget_s=2.0, use_cpsat=False, workers=1, deterministic=True)
    return {"booked": booked.id, "second": second.id, "inland": inland.id, "waiting": waiting.id}
