"""Rich rendering of cases, worklists and step changes."""

from __future__ import annotations

from essence.cli.common import plural
from essence.cli.render import console, make_table
from essence.services.views import CaseSummary, CaseView, StepChange, WorkItemView

STATE_STYLE = {
    "completed": "green",
    "ready": "bold cyan",
    "in-progress": "bold yellow",
    "on-hold": "magenta",
    "requested": "dim",
    "cancelled": "dim strike",
    "entered-in-error": "red strike",
}


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
    table = make_table("steps", ["step", "state", "who", "min", "ready", "done", "note"])
    critical = set(view.critical_path)
    for step in view.steps:
        style = STATE_STYLE.get(step.state, "")
        marker = "★ " if step.key in critical else "  "
        who = ", ".join(f"{p}:{c}" for p, c in step.assignees.items()) or (
            "family" if not step.professions else "unassigned"
        )
        state = f"[{style}]{step.state}[/]" if style else step.state
        if step.needs_review:
            state += " [magenta](needs review)[/]"
        table.add_row(
            marker + step.key,
            state,
            who,
            str(step.minutes or ""),
            str(step.due_on or step.ready_on or ""),
            step.completed_at.date().isoformat() if step.completed_at else "",
            step.hold_reason
            or step.outcome + (f" {plural(step.no_shows, 'no-show')}" if step.no_shows else ""),
        )
    console.print(table)
    console.print("[dim]★ critical path to the feedback meeting[/]")


def render_case_list(rows: list[CaseSummary]) -> None:
    """One line per case with progress, waits and risk (drawn line by line: a rich table
    of a hundred cases took 80 ms)."""
    from essence.cli.line_table import LineTable

    table = LineTable(
        plural(len(rows), "case"),
        ["case", "child", "home", "state", "done", "proj.", "risk", "waiting on"],
        whole={"case": 12, "child": 13, "home": 6, "state": 6, "done": 5, "proj.": 5, "risk": 8},
    )
    for row in rows:
        waits = "\n".join(row.waiting_on[:4]) + (" …" if len(row.waiting_on) > 4 else "")
        table.add_row(
            row.id,
            f"{row.personnummer}\n{row.child_name[:13]}",
            row.municipality,
            [(row.state, ""), ("review", "magenta")] if row.needs_review else row.state,
            f"{row.steps_done}/{row.steps_total}",
            f"{row.projected_lead_time_days} d"
            if row.projected_lead_time_days is not None
            else "—",
            [RISK_BADGES[(row.at_risk_140, row.at_risk_90)]],
            waits,
        )
    console.print(table)


def render_worklist(items: list[WorkItemView]) -> None:
    """A clinician's steps that can be worked on now."""
    table = make_table(
        f"worklist: {plural(len(items), 'step')}",
        ["case", "child", "step", "state", "ready", "planned", "min", "with"],
        whole={"case": 12, "child": 13},
    )
    for item in items:
        style = STATE_STYLE.get(item.state, "")
        table.add_row(
            item.case_id,
            f"{item.personnummer}\n{item.child_name[:13]}",
            item.title,
            f"[{style}]{item.state}[/]",
            str(item.ready_on or ""),
            f"{item.planned_on or ''} {item.planned_start or ''}".strip(),
            str(item.minutes),
            ", ".join(item.joint_with),
        )
    console.print(table)


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
