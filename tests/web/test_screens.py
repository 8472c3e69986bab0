"""Every page on a phone (375 px), a tablet (768 px) and a desktop (1366 px).

No page may scroll sideways, every tap target is at least 44 px, axe-core finds no serious or
critical accessibility violation, and each page is photographed at 375 and 1366 px into
artifacts/screenshots/ (`<page>-<width>.png`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from essence.adapters.web_runs import SqlRunStore
from essence.bootstrap import engine_for
from essence.services import cases, scheduling
from tests.web.browser_support import (
    WIDTHS,
    Served,
    chromium,
    needs_chromium,
    seed_day,
    serve,
    shot,
    signed_in,
)

pytestmark = [needs_chromium, pytest.mark.timeout(900), pytest.mark.slow]
SHOT_WIDTHS = (375, 1366)
TARGETS = (
    "button, input:not([type=hidden]):not([type=checkbox]), select, summary, a.button, "
    "nav a, td a, .counts a, label.check"
)
SMALL_TARGETS = f"""() => [...document.querySelectorAll("{TARGETS}")]
  .filter(e => e.offsetParent !== null && !e.closest('.skip'))
  .map(e => {{ const r = e.getBoundingClientRect();
              return [e.outerHTML.slice(0, 90), Math.round(r.width), Math.round(r.height)]; }})
  .filter(([_, w, h]) => h < 44 || w < 44)"""


@dataclass
class Screen:
    """One page to check: its name, who looks at it, and its address."""

    name: str
    user: str | None
    path: str
    prepare: str = ""


@dataclass
class Day:
    """The served app after a coordinator's Monday, and the pages to look at."""

    served: Served
    screens: list[Screen]


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    """A served app with cases, a booked plan and a finished capacity run."""
    url = f"sqlite:///{tmp_path_factory.mktemp('screens') / 'essence.db'}"
    with serve(url) as served:
        ids = seed_day(served.web)
        view = cases.show_case(served.web.ctx, ids["booked"])
        physician = next(s for s in view.steps if s.key == "medical_exam").assignees["physician"]
        involved = {who for s in view.steps for who in s.assignees.values()}
        outsider = next(p for p in ("psy-1", "psy-2", "psy-3") if p not in involved)
        booked = ids["booked"]
        replan = _finished_replan(url, served.web.ctx, changed=booked)
        screens = [
            Screen("login", None, "/login"),
            Screen("dashboard", "coord-1", "/dashboard"),
            Screen("search", "coord-1", "/search", "search"),
            Screen("open-case-errors", "coord-1", "/cases/new", "bad-referral"),
            Screen("case", "coord-1", f"/cases/{booked}"),
            Screen("case-actions-open", "coord-1", f"/cases/{booked}", "open-actions"),
            Screen("audit", "coord-1", f"/cases/{booked}/audit"),
            Screen("family-letter", "coord-1", f"/cases/{booked}/letter"),
            Screen("team", "coord-1", "/team"),
            Screen("replan", "coord-1", "/schedule"),
            Screen("replan-result", "coord-1", f"/schedule/runs/{replan}"),
            Screen("coordinator-worklist", "coord-1", "/worklist"),
            Screen("lead-times-coordinator", "coord-1", "/report"),
            Screen("clinician-worklist", physician, "/worklist"),
            Screen("clinician-case", physician, f"/cases/{booked}"),
            Screen("outsider-403", outsider, f"/cases/{booked}"),
            Screen("planner-lead-times", "planner-1", "/report"),
            Screen("planner-capacity", "planner-1", "/planner"),
            Screen("planner-results", "planner-1", "/planner", "run"),
        ]
        yield Day(served, screens)


def _finished_replan(url: str, ctx: Any, changed: str) -> str:
    """A finished re-plan of the seeded day as the page stores it, in which one case
    changed while planning (the result then says so)."""
    view = scheduling.plan_schedule(ctx, use_cpsat=False, workers=1, deterministic=True)
    view.replanned_alone = [changed]
    store = SqlRunStore(engine_for(url))
    run = store.start("replan", "coord-1", 5)
    store.finish(run.id, view.model_dump_json())
    return run.id


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium."""
    with chromium() as launched:
        yield launched


def _prepare(page: Any, screen: Screen, base: str) -> None:
    page.goto(base + screen.path)
    if screen.prepare == "search":
        page.fill("#q", "Wilma")
        page.click("form.search button[type=submit]")
        page.wait_for_selector("[data-testid=hits]")
    elif screen.prepare == "bad-referral":
        page.fill("#f-personnummer", "20210517-1235")
        page.fill("#f-child_name", "")
        page.click("form.form-grid button[type=submit]")
        page.wait_for_selector("[data-testid=error-summary]")
    elif screen.prepare == "open-actions":
        page.locator("tr[data-step=cognitive_test] summary").click()
    elif screen.prepare == "run":
        page.fill("#f-children_per_year", "120")
        page.fill("#f-years", "1")
        page.fill("#f-replications", "2")
        page.click("#planner-form button[type=submit]")
        page.wait_for_selector("[data-testid=results]", timeout=120_000)
    page.wait_for_load_state("networkidle")


def _axe(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_every_page_fits_every_screen_with_big_targets_and_no_serious_axe_findings(
    day: Day, browser: Any
) -> None:
    problems: list[str] = []
    for width in WIDTHS:
        pages: dict[str | None, Any] = {}
        for screen in day.screens:
            if screen.user not in pages:
                pages[screen.user] = signed_in(browser, day.served, screen.user, width)
            page = pages[screen.user]
            _prepare(page, screen, day.served.base)
            scroll, inner = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            if scroll > inner:
                problems.append(f"{screen.name}@{width}: {scroll} px wide in {inner}")
            for html, w, h in page.evaluate(SMALL_TARGETS):
                problems.append(f"{screen.name}@{width}: target {w}x{h} px: {html}")
            if width in SHOT_WIDTHS:
                problems.extend(f"{screen.name}@{width}: {v}" for v in _axe(page))
                shot(page, f"{screen.name}-{width}")
        for page in pages.values():
            problems.extend(f"console@{width}: {e}" for e in page.errors)
            page.context.close()
    assert problems == [], "\n".join(problems[:40])


def test_the_family_letter_prints_on_a4_without_the_menus(day: Day, browser: Any) -> None:
    screen = next(s for s in day.screens if s.name == "family-letter")
    page = signed_in(browser, day.served, "coord-1", 1366)
    page.goto(day.served.base + screen.path)
    page.emulate_media(media="print")
    assert page.locator("header.top").is_hidden()
    assert page.locator("[data-testid=letter]").is_visible()
    pdf = page.pdf(prefer_css_page_size=True)
    width_pt, height_pt = _first_page_size(pdf)
    assert (round(width_pt), round(height_pt)) == (595, 842), "A4 portrait in points"
    page.context.close()


def _first_page_size(pdf: bytes) -> tuple[float, float]:
    found = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert found is not None
    return float(found.group(1)), float(found.group(2))
