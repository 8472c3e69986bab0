"""Rich rendering of cases, worklists and step changes."""

from __future__ import annotations

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


def risk_badge(at_risk_90: bool, at_risk_140: bool) -> str:
    """A coloured badge for the risk of passing 90 or 140 days."""
    if at_risk_140:
        return "[bold red]>140 d[/]"
    if at_risk_90:
        return "[yellow]>90 d[/]"
    return "[green]ok[/]"


def render_case(view: CaseView) -> None:
    """A case header and a table of its steps."""
    console.print(
        f"[bold]{view.id}[/]  {view.personnummer}  {view.child_name}  ({view.municipality})  "
        f"state [bold]{view.state}[/]  pathway {view.pathway} v{view.pathway_version}"
    )
    projected = view.projected_feedback.isoformat() if view.projected_feedback else "—"
    lead = (
        f"lead time {view.lead_time_days} d (saved {view.days_saved} d vs 140)"
        if view.lead_time_days is not None
        else f"projected feedback {projected} ({view.projected_lead_time_days} d)"
    )
    console.print(
        f"referred {view.referral_date} by {view.referring_unit}; consent "
        f"{view.consenting}/{view.guardians}; {lead}; "
        f"{risk_badge(view.at_risk_90, view.at_risk_140)}; visit days {view.visit_days}"
    )
    table = make_table("steps", ["step", "state", "who", "min", "ready", "done", "note"])
    critical = set(view.critical_path)
    for step in view.steps:
        style = STATE_STYLE.get(step.state, "")
        marker = "★ " if step.key in critical else "  "
        who = ", ".join(f"{p}:{c}" for p, c in step.assignees.items()) or (
            "family" if not step.professions else "unassigned"
        )
        table.add_row(
            marker + step.key,
            f"[{style}]{step.state}[/]" if style else step.state,
            who,
            str(step.minutes or ""),
            str(step.due_on or step.ready_on or ""),
            step.completed_at.date().isoformat() if step.completed_at else "",
            step.hold_reason or step.outcome,
        )
    console.print(table)
    console.print("[dim]★ critical path to the feedback meeting[/]")


def render_case_list(rows: list[CaseSummary]) -> None:
    """One line per case with progress, waits and risk."""
    table = make_table(
        f"{len(rows)} cases",
        ["case", "child", "home", "state", "done", "proj.", "risk", "waiting on"],
        whole={"case": 12, "child": 13, "home": 6, "state": 6, "done": 5, "proj.": 5, "risk": 8},
    )
    for row in rows:
        table.add_row(
            row.id,
            f"{row.personnummer}\n{row.child_name[:13]}",
            row.municipality,
            row.state,
            f"{row.steps_done}/{row.steps_total}",
            f"{row.projected_lead_time_days} d"
            if row.projected_lead_time_days is not None
            else "—",
            risk_badge(row.at_risk_90, row.at_risk_140),
            "\n".join(row.waiting_on[:4]) + (" …" if len(row.waiting_on) > 4 else ""),
        )
    console.print(table)


def render_worklist(items: list[WorkItemView]) -> None:
    """A clinician's steps that can be worked on now."""
    table = make_table(
        f"worklist: {len(items)} steps",
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
    console.print(line)
