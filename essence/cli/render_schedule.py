"""Rich rendering of plans and calendars."""

from __future__ import annotations

from itertools import groupby

from essence.cli.render import console, make_table
from essence.services.scheduling import AppointmentView, PlanView


def render_plan(view: PlanView) -> None:
    """The solve report, per-case figures and what is not scheduled yet."""
    gap = f"{100 * view.gap:.1f} %" if view.gap is not None else "—"
    console.print(
        f"[bold]{view.method}[/] {view.status}: objective {view.objective}, best bound "
        f"{view.best_bound}, gap {gap}, {view.wall_seconds} s wall "
        f"(greedy objective {view.greedy_objective})"
    )
    console.print(
        f"{len(view.appointments)} appointments "
        f"({'booked' if view.booked else 'not booked: dry run'}), {view.moved} booked moved, "
        f"staff {view.staff_km} km"
    )
    if view.replanned_alone:
        console.print(
            "changed while planning, re-planned alone: " + ", ".join(view.replanned_alone)
        )
    if view.not_replanned:
        console.print(
            "changed while planning, left as they are now (not in this plan): "
            + ", ".join(view.not_replanned)
        )
    if not view.cases and not view.not_scheduled_yet:
        console.print("nothing to plan: no open case has steps left")
        return
    table = make_table("cases", ["case", "referred", "feedback", "lead", "visits", "family km"],
                       whole={"case": 12, "referred": 10, "feedback": 10})  # fmt: skip
    for case in view.cases:
        lead = case["lead_days"]
        table.add_row(
            str(case["case_id"]),
            str(case["referral_date"]),
            str(case["feedback_date"] or "not yet"),
            f"{lead} d" if lead is not None else "—",
            str(case["visit_days"]),
            str(case["family_km"]),
        )
    console.print(table)
    if view.not_scheduled_yet:
        console.print(f"[yellow]not scheduled yet ({len(view.not_scheduled_yet)}):[/]")
        for item in view.not_scheduled_yet:
            console.print(f"  {item['case_id']} {item['step']}: {item['reason']}")


def render_calendar(rows: list[AppointmentView]) -> None:
    """Appointments grouped by day."""
    if not rows:
        console.print("no appointments")
        return
    for day, items in groupby(rows, key=lambda r: r.day):
        table = make_table(f"{day:%A} {day}", ["time", "case", "step", "who", "place"],
                           whole={"time": 11, "case": 12})  # fmt: skip
        for row in items:
            family = " 👪" if row.family_facing else ""
            status = "" if row.status == "booked" else f" [dim]({row.status.replace('_', '-')})[/]"
            table.add_row(
                f"{row.start}-{row.end}",
                row.case_id,
                row.title + family + status,
                ", ".join(row.clinicians),
                row.place,
            )
        console.print(table)
