"""The daily sweep flow: overdue steps and cases at risk, as a report file and an artifact."""

from __future__ import annotations

import json
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from essence import bootstrap
from essence.services.context import FLOWS_USER
from essence.services.sweep import SweepView, daily_sweep
from flows.retry import RETRY_DELAY_S, RETRY_JITTER_FACTOR, TRANSIENT_RETRIES, is_transient
from flows.schedule import replan_task

DEFAULT_REPORT_DIR = "reports"


@task(
    retries=TRANSIENT_RETRIES,
    retry_delay_seconds=RETRY_DELAY_S,
    retry_jitter_factor=RETRY_JITTER_FACTOR,
    retry_condition_fn=is_transient,
)
def sweep_task() -> SweepView:
    """Run the sweep service as the flows' named system user (audited as that user)."""
    return daily_sweep(bootstrap.context(user_id=FLOWS_USER))


def sweep_markdown(sweep: SweepView) -> str:
    """The sweep as markdown: overdue steps and cases at risk (case ids only, no identities)."""
    lines = [
        f"# Daily sweep {sweep.as_of}",
        f"{sweep.open_cases} open cases; {sweep.waiting_steps_completed} waiting steps completed.",
        "",
        f"## Steps needing review after a correction ({len(sweep.needs_review)})",
        *(f"- {r.case_id}: {r.step_key} ({r.state})" for r in sweep.needs_review),
        "",
        f"## Overdue steps ({len(sweep.overdue_steps)})",
        "| case | step | state | who | expected by | days over |",
        "|---|---|---|---|---|---|",
        *(
            f"| {o.case_id} | {o.step_key} | {o.state} | {', '.join(o.assignees)} | "
            f"{o.expected_by} | {o.days_overdue} |"
            for o in sweep.overdue_steps
        ),
        "",
        f"## At risk of the 90-day guarantee ({len(sweep.at_risk_90)})",
        *(f"- {c.case_id}: projected {c.projected_lead_time_days} days" for c in sweep.at_risk_90),
        "",
        f"## At risk of the 20-week baseline ({len(sweep.at_risk_140)})",
        *(f"- {c.case_id}: projected {c.projected_lead_time_days} days" for c in sweep.at_risk_140),
    ]
    return "\n".join(lines) + "\n"


@task
def write_report_task(sweep: SweepView, report_dir: str) -> str:
    """Write the sweep as JSON and markdown into `report_dir`; returns the JSON path."""
    folder = Path(report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"sweep-{sweep.as_of.isoformat()}"
    stem.with_suffix(".json").write_text(json.dumps(sweep.model_dump(mode="json"), indent=2))
    stem.with_suffix(".md").write_text(sweep_markdown(sweep))
    return str(stem.with_suffix(".json"))


@flow(name="daily-sweep", log_prints=False)
def daily_sweep_flow(
    report_dir: str = DEFAULT_REPORT_DIR, replan: bool = True, replan_budget_s: float = 60.0
) -> SweepView:
    """Advance waiting steps, list overdue steps and cases at risk (report and artifact),
    then re-plan around the bookings so yesterday's changes are in today's plan."""
    sweep = sweep_task()
    if replan:
        replan_task(10, replan_budget_s, False)
    write_report_task(sweep, report_dir)
    create_markdown_artifact(
        key="daily-sweep", markdown=sweep_markdown(sweep), description="essence daily sweep"
    )
    return sweep
