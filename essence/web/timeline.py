"""Presentation helpers for pages: risk badges and the SVG timeline of a case's steps.

Pure functions over the services' read models (no queries, no rules of the engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from essence.services.views import CaseSummary, CaseView, StepView
from essence.web.i18n import gettext

GUARANTEE_DAYS = 90
BASELINE_DAYS = 140
ROW_HEIGHT = 22
LABEL_WIDTH = 230
CHART_WIDTH = 560


def badge(summary: CaseSummary) -> tuple[str, str]:
    """CSS class and text of a case's projected lead time against the 90 and 140-day lines."""
    days = summary.projected_lead_time_days
    if days is None:
        return "badge-none", gettext("not projected")
    if days <= GUARANTEE_DAYS:
        return "badge-ok", gettext("%(days)s d") % {"days": days}
    if days <= BASELINE_DAYS:
        return "badge-warn", gettext("%(days)s d (> 90)") % {"days": days}
    return "badge-late", gettext("%(days)s d (> 140)") % {"days": days}


@dataclass(frozen=True)
class Bar:
    """One step on the timeline; x and width in pixels, state for its colour."""

    key: str
    title: str
    state: str
    y: int
    x: int
    width: int
    label: str


@dataclass(frozen=True)
class Timeline:
    """The SVG timeline: bars, the 90 and 140-day lines, today, and the size."""

    bars: list[Bar]
    width: int
    height: int
    line_90: int
    line_140: int
    today: int | None
    ticks: list[tuple[int, str]]


def _span(step: StepView) -> tuple[date | None, date | None]:
    start = step.started_at.date() if step.started_at else step.planned_on or step.ready_on or None
    end = step.completed_at.date() if step.completed_at else step.planned_on or step.due_on
    return start, end or start


def timeline(case: CaseView, today: date) -> Timeline:
    """Lay out the steps of `case` in days since referral, with the 20-week line."""
    spans = {s.key: _span(s) for s in case.steps}
    last = max(
        [BASELINE_DAYS + 10, (today - case.referral_date).days + 5]
        + [(end - case.referral_date).days + 5 for _start, end in spans.values() if end]
    )
    scale = CHART_WIDTH / last

    def x(days: int) -> int:
        return LABEL_WIDTH + round(max(0, days) * scale)

    bars = []
    for row, step in enumerate(case.steps):
        start, end = spans[step.key]
        if start is None:
            left, width, label = x(0), 0, gettext("not ready yet")
        else:
            first = (start - case.referral_date).days
            final = ((end or start) - case.referral_date).days
            left, width = x(first), max(4, x(final) - x(first))
            label = (
                gettext("day %(n)s") % {"n": first}
                if first == final
                else gettext("days %(a)s–%(b)s") % {"a": first, "b": final}
            )
        bars.append(
            Bar(step.key, step.title, step.state, 20 + row * ROW_HEIGHT, left, width, label)
        )
    since = (today - case.referral_date).days
    ticks = [(x(day), f"{day}") for day in range(0, last + 1, 28)]
    return Timeline(
        bars=bars,
        width=LABEL_WIDTH + CHART_WIDTH + 20,
        height=40 + len(bars) * ROW_HEIGHT,
        line_90=x(GUARANTEE_DAYS),
        line_140=x(BASELINE_DAYS),
        today=x(since) if since >= 0 else None,
        ticks=ticks,
    )
