"""Rich rendering of cases, worklists and step changes."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from rich.markup import escape

from essence.cli.common import plural
from essence.cli.render import console, make_table, print_fitting
from essence.services.views import CaseSummary, CaseView, StepChange, WorkItemView

if TYPE_CHECKING:
    from rich.table import Table

STATE_STYLE = {
    "completed": "green",
    "ready": "bold cyan",
    "in-progress": "bold yellow",
    "on-hold": "magenta",
    "requested": "dim",
    "cancelled": "dim strike",
    "entered-in-error": "red strike",
}


NAME_WIDTH = 13  # a child's name wraps at the width of the masked personnummer above it

# (at risk of 140 days, at risk of 90 days) -> the badge and its style
RISK_BADGES = {
    (True, True): (">140 d", "bold red"),
    (True, False): (">140 d", "bold red"),
    (False, True): (">90 d", "yellow"),
    (False, False): ("ok", "green"),
}


def risk_badge(at_risk_90: bool, at_risk_140: bool) -> str:
    """A coloured badge (rich markup) for the risk of passing 90 or 140 days."""
    text, style = RISK_BADGES[(at_risk_140, at_risk_90)]
    return f"[{style}]{text}[/]"


def lead_text(view: CaseView) -> str:
    """The lead time when held, else the projection, or why there is none."""
    if view.lead_time_days is not None:
        return f"lead time {view.lead_time_days} d (saved {view.days_saved} d vs 140)"
    if view.state == "withdrawn":
        return "withdrawn: no lead time"
    if view.projected_lead_time_days is None or view.projected_feedback is None:
        return "no projected feedback"
    return (
        f"projected feedback {view.projected_feedback.isoformat()} "
        f"({view.projected_lead_time_days} d)"
    )


def consent_text(view: CaseView) -> str:
    """``consent 1 of 2 (guardian 1 given 2026-11-02, guardian 2 withdrawn 2026-11-20)``."""
    custody = "sole custody" if view.guardians == 1 else f"{view.guardians} guardians"
    parts = [f"guardian {c.guardian} {c.status} {c.on}" for c in view.consent]
    detail = f"; {', '.join(parts)}" if parts else ""
    return f"consent {view.consenting} of {view.guardians} ({custody}{detail})"


def render_case(view: CaseView) -> None:
    """A case header and a table of its steps."""
    paused = "  [bold magenta]paused: consent withdrawn[/]" if view.paused else ""
    console.print(
        f"[bold]{view.id}[/]  {view.personnummer}  {view.child_name}  ({view.municipality})  "
        f"state [bold]{view.state}[/]  pathway {view.pathway} v{view.pathway_version}{paused}"
    )
    console.print(
        f"referred {view.referral_date} by {view.referring_unit}; {consent_text(view)}; "
        f"{lead_text(view)}; "
        f"{risk_badge(view.at_risk_90, view.at_risk_140)}; visit days {view.visit_days}"
    )
    if view.needs_review:
        console.print("[magenta]needs review:[/] " + ", ".join(view.needs_review))
    print_fitting(*_step_tables(view))
    console.print("[dim]★ critical path to the feedback meeting[/]")


def _step_tables(view: CaseView) -> tuple[Table, Table]:
    """A case's steps, wide and compact (who does a step under its key, done under ready)."""
    wide = make_table("steps", ["step", "state", "who", "min", "ready", "done", "note"])
    compact = make_table(
        "steps", ["step\nwho", "state", "min", "ready\ndone", "note"],
        whole={"step\nwho": 10, "ready\ndone": 10},
    )  # fmt: skip
    critical = set(view.critical_path)
    for step in view.steps:
        style = STATE_STYLE.get(step.state, "")
        marker = "★ " if step.key in critical else "  "
        who = [f"{p}:{c}" for p, c in step.assignees.items()] or [
            "family" if not step.professions else "unassigned"
        ]
        state = f"[{style}]{step.state}[/]" if style else step.state
        if step.needs_review:
            state += " [magenta](needs review)[/]"
        ready = str(step.due_on or step.ready_on or "")
        done = step.completed_at.date().isoformat() if step.completed_at else ""
        note = step.hold_reason or step.outcome + (
            f" {plural(step.no_shows, 'no-show')}" if step.no_shows else ""
        )
        minutes = str(step.minutes or "")
        wide.add_row(marker + step.key, state, ", ".join(who), minutes, ready, done, note)
        assignees = "".join(f"\n    [dim]{escape(name)}[/]" for name in who)
        compact.add_row(
            marker + step.key + assignees, state, minutes, f"{ready}\n{done}".rstrip(), note
        )
    return wide, compact


def render_case_list(rows: list[CaseSummary]) -> None:
    """One line per case with progress, waits and risk (drawn line by line: a rich table
    of a hundred cases took 80 ms). Below the width at which all eight columns fit, a
    compact layout stacks the case id, personnummer and name in one column (and the state
    over the steps done, the projection over the risk), so "waiting on" keeps its room."""
    from essence.cli.line_table import LineTable

    title = plural(len(rows), "case")
    wide = LineTable(
        title,
        ["case", "child", "home", "state", "done", "proj.", "risk", "waiting on"],
        whole={"case": 12, "child": 13, "home": 6, "state": 6, "done": 5, "proj.": 5, "risk": 8},
    )
    compact = LineTable(
        title,
        ["case\nchild", "home", "state\ndone", "proj.\nrisk", "waiting on"],
        whole={"case\nchild": 13, "home": 6, "state\ndone": 6, "proj.\nrisk": 6},
    )
    for row in rows:
        child = "\n".join([row.personnummer, *name_lines(row.child_name)])
        review = [("review", "magenta")] if row.needs_review else []
        done = f"{row.steps_done}/{row.steps_total}"
        projected = (
            f"{row.projected_lead_time_days} d" if row.projected_lead_time_days is not None else "—"
        )
        risk = RISK_BADGES[(row.at_risk_140, row.at_risk_90)]
        waits = "\n".join(row.waiting_on[:4]) + (" …" if len(row.waiting_on) > 4 else "")
        state = [(row.state, ""), *review]
        wide.add_row(row.id, child, row.municipality, state, done, projected, [risk], waits)
        compact.add_row(
            f"{row.id}\n{child}",
            row.municipality,
            [(row.state, ""), (done, ""), *review],
            [(projected, ""), risk],
            waits,
        )
    print_fitting(wide, compact)


def name_lines(name: str, width: int = NAME_WIDTH) -> list[str]:
    """A child's name in lines of at most `width` characters, broken between words (or after
    a hyphen), never cut: a longer word keeps its own line."""
    return textwrap.wrap(name, width, break_long_words=False) or [""]


def render_worklist(items: list[WorkItemView]) -> None:
    """A clinician's steps that can be worked on now (narrow terminals: the case over the
    child, and the planned day and time under the ready date)."""
    title = f"worklist: {plural(len(items), 'step')}"
    wide = make_table(
        title,
        ["case", "child", "step", "state", "ready", "planned", "min", "with"],
        whole={"case": 12, "child": 13},
    )
    compact = make_table(
        title,
        ["case\nchild", "step", "state", "ready\nplanned", "min", "with"],
        whole={"case\nchild": 13, "state": 5, "ready\nplanned": 10},
    )
    for item in items:
        style = STATE_STYLE.get(item.state, "")
        child = "\n".join([item.personnummer, *name_lines(item.child_name)])
        state = f"[{style}]{item.state}[/]"
        ready = str(item.ready_on or "")
        planned = [str(part) for part in (item.planned_on, item.planned_start) if part]
        joint = ", ".join(item.joint_with)
        wide.add_row(
            item.case_id, child, item.title, state, ready, " ".join(planned), str(item.minutes),
            joint,
        )  # fmt: skip
        compact.add_row(
            f"{item.case_id}\n{child}", item.title, state, "\n".join([ready, *planned]).rstrip(),
            str(item.minutes), joint,
        )  # fmt: skip
    print_fitting(wide, compact)


def render_step_change(change: StepChange) -> None:
    """What a step change did."""
    line = f"{change.case_id} {change.step_key}: [bold]{change.state}[/] (case {change.case_state})"
    if change.newly_ready:
        line += "; now ready: " + ", ".join(change.newly_ready)
    if change.back_to_requested:
        line += "; back to requested: " + ", ".join(change.back_to_requested)
    if change.needs_review:
        line += "; needs review: " + ", ".join(change.needs_review)
    if change.appointments_cancelled:
        line += f"; {plural(change.appointments_cancelled, 'appointment')} cancelled"
    if change.appointments_attended:
        line += "; appointment attended"
    console.print(line)
