"""`essence serve`: serve the flows as deployments, the sweep on a weekday-morning cron."""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from flows.capacity import capacity_sweep_flow
from flows.cases import advance_flow, intake_flow
from flows.schedule import replan_flow
from flows.sweep import daily_sweep_flow

SWEEP_CRON = "0 7 * * 1-5"
TIMEZONE = "Europe/Stockholm"


def deployments() -> list[object]:
    """The deployments `essence serve` runs: the sweep scheduled, the others on demand."""
    return [
        daily_sweep_flow.to_deployment(
            name="daily-sweep", schedules=[Cron(SWEEP_CRON, timezone=TIMEZONE)]
        ),
        intake_flow.to_deployment(name="case-intake"),
        advance_flow.to_deployment(name="case-advance"),
        replan_flow.to_deployment(name="schedule-replan"),
        capacity_sweep_flow.to_deployment(name="capacity-sweep"),
    ]


def serve_all() -> None:
    """Start a long-running process that runs the deployments (Ctrl-C stops it)."""
    from essence.logging_setup import configure_logging
    from essence.services.tracing import clear_request_id

    configure_logging("server", force=True)
    clear_request_id()  # each use case of a flow run gets its own id
    serve(*deployments())  # type: ignore[arg-type]
