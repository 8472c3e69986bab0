"""Rich rendering of lead-time reports, the sweep and the audit extract."""

from __future__ import annotations

from rich.table import Table

from essence.cli.render import console, make_table, print_fitting
from essence.domain.metrics import CohortMetrics
from essence.services.reporting import ReportView
from essence.services.sweep import SweepView
from essence.services.views import AuditLine


def _fmt(value: object, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and unit == "%":
        return f"{100 * value:.0f} %"
    return f"{value}{unit}"


def _count(value: int | None) -> str:
    """A count of children as shown: "<5" when suppressed (see essence.domain.suppression)."""
    return "<5" if value is None else str(value)


def cohort_rows(cohort: CohortMetrics) -> list[tuple[str, str]]:
    """The cohort figures as (label, value) pairs."""
    return [
        ("cases (with feedback held)", f"{_count(cohort.cases)} ({_count(cohort.with_feedback)})"),
        ("median lead time", _fmt(cohort.median_lead_time_days, " d")),
        ("90th percentile lead time", _fmt(cohort.p90_lead_time_days, " d")),
        ("share within 90 days", _fmt(cohort.share_within_90_days, "%")),
        ("median days saved vs 140 d", _fmt(cohort.median_days_saved, " d")),
        ("median saved vs 20-week baseline", _fmt(cohort.median_percent_saved, " %")),
        ("median days to first visit", _fmt(cohort.median_days_to_first_visit, " d")),
        ("mean family visit days", _fmt(cohort.mean_visit_days)),
        (
            "open cases at risk > 90 d / > 140 d",
            f"{_count(cohort.at_risk_90)} / {_count(cohort.at_risk_140)}",
        ),
        (
            "missed appointments (no-shows)",
            _count(cohort.no_shows),
        ),
    ]


def render_report(report: ReportView) -> None:
    """Cohort table, groups, load per profession and (for coordinators) the case lines."""
    table = Table(
        title=f"Lead time vs the {report.baseline_days}-day baseline, as of {report.as_of}"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    for label, value in cohort_rows(report.cohort):
        table.add_row(label, value)
    console.print(table)
    groups = Table(title="By region group and gender (counts under 5 suppressed)")
    for column in ("group", "cases", "median", "p90", "within 90 d"):
        groups.add_column(column)
    for name, cohort in {**report.by_group, **report.by_gender}.items():
        groups.add_row(
            name,
            _count(cohort.cases),
            _fmt(cohort.median_lead_time_days, " d"),
            _fmt(cohort.p90_lead_time_days, " d"),
            _fmt(cohort.share_within_90_days, "%"),
        )
    console.print(groups)
    load = Table(title="Staff minutes of completed steps per profession")
    load.add_column("profession")
    load.add_column("minutes", justify="right")
    load.add_column("hours", justify="right")
    for profession, minutes in report.cohort.minutes_by_profession.items():
        load.add_row(profession, str(minutes), f"{minutes / 60:.1f}")
    console.print(load)
    if report.cases:
        print_fitting(*_case_lines(report))


def _case_lines(report: ReportView) -> tuple[Table, Table]:
    """The coordinator's case lines, wide and compact (the home under the case id)."""
    columns = ["state", "referred", "lead/projected", "saved", "visits"]
    wide = make_table("Cases", ["case", "home", *columns], whole={"case": 12, "referred": 10})
    compact = make_table(
        "Cases",
        ["case\nhome", "state", "referred", "lead/\nprojected", "saved", "visits"],
        whole={"case\nhome": 12, "referred": 10},
    )
    for line in report.cases:
        if line.lead_time_days is not None:
            lead = f"{line.lead_time_days} d"
        elif line.projected_lead_time_days is None:
            lead = "withdrawn" if line.state == "withdrawn" else "—"
        else:
            lead = f"~{line.projected_lead_time_days} d ({line.projected_feedback})"
        figures = (
            line.state, str(line.referral_date), lead, _fmt(line.days_saved, " d"),
            str(line.visit_days),
        )  # fmt: skip
        wide.add_row(line.case_id, line.municipality, *figures)
        compact.add_row(f"{line.case_id}\n{line.municipality}", *figures)
    return wide, compact


def render_sweep(sweep: SweepView) -> None:
    """Overdue steps and cases at risk."""
    from essence.cli.common import plural

    console.print(
        f"sweep {sweep.as_of}: {plural(sweep.open_cases, 'open case')}, "
        f"{plural(sweep.waiting_steps_completed, 'waiting step')} completed"
    )
    if sweep.needs_review:
        console.print(
            "[magenta]needs review:[/] "
            + ", ".join(f"{r.case_id} {r.step_key}" for r in sweep.needs_review)
        )
    table = Table(title=plural(len(sweep.overdue_steps), "overdue step"))
    for column in ("case", "step", "state", "who", "expected by", "days over"):
        table.add_column(column)
    for o in sweep.overdue_steps:
        table.add_row(
            o.case_id,
            o.step_key,
            o.state,
            ", ".join(o.assignees),
            str(o.expected_by),
            str(o.days_overdue),
        )
    console.print(table)
    for title, lines in (("> 90 days", sweep.at_risk_90), ("> 140 days", sweep.at_risk_140)):
        console.print(
            f"at risk {title}: "
            + (", ".join(f"{c.case_id} (~{c.projected_lead_time_days} d)" for c in lines) or "none")
        )


def render_audit(lines: list[AuditLine]) -> None:
    """The guardian's log extract (narrow terminals: the time under the date, the role
    under the user)."""
    from essence.domain.calendar import STOCKHOLM

    title = f"audit log: {len(lines)} entries"
    wide = Table(title=title)
    for column in ("when (Stockholm)", "user", "role", "action", "outcome", "detail"):
        wide.add_column(column)
    compact = Table(title=title)
    for column in ("when\n(Stockholm)", "user\nrole", "action", "outcome", "detail"):
        compact.add_column(column, no_wrap=column != "detail")
    for line in lines:
        when = line.at.astimezone(STOCKHOLM)
        wide.add_row(
            when.strftime("%Y-%m-%d %H:%M:%S"),
            line.user_id,
            line.role,
            line.action,
            line.outcome,
            line.detail,
        )
        compact.add_row(
            when.strftime("%Y-%m-%d\n%H:%M:%S"),
            f"{line.user_id}\n{line.role}",
            line.action,
            line.outcome,
            line.detail,
        )
    print_fitting(wide, compact)


def render_comparison(columns: list) -> None:  # type: ignore[type-arg]
    """Coordinated plan vs sequential referrals, side by side."""
    from rich.table import Table

    table = Table(title="Coordinated plan vs sequential referrals (same cohort, same team)")
    table.add_column("figure")
    for column in columns:
        table.add_column(column.policy, justify="right")
    rows = [
        ("children (feedback held / planned)", lambda c: f"{c.cases} ({c.with_feedback})"),
        ("median lead time", lambda c: _fmt(c.median_lead_days, " d")),
        ("mean lead time", lambda c: _fmt(c.mean_lead_days, " d")),
        ("feedback within 90 days", lambda c: f"{c.within_90_days}"),
        ("mean family visit days", lambda c: _fmt(c.mean_visit_days)),
        ("family km (round trips)", lambda c: f"{c.family_km:,}"),
        ("staff km (round trips)", lambda c: f"{c.staff_km:,}"),
    ]
    for label, cell in rows:
        table.add_row(label, *(cell(c) for c in columns))
    console.print(table)
