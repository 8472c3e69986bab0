"""The re-plan flow: after completions, cancellations or new absences, plan what is affected."""

from __future__ import annotations

from prefect import flow, task

from essence import bootstrap
from essence.services.context import FLOWS_USER
from essence.services.scheduling import PlanView, plan_schedule
from flows.retry import RETRY_DELAY_S, RETRY_JITTER_FACTOR, TRANSIENT_RETRIES, is_transient


@task(
    retries=TRANSIENT_RETRIES,
    retry_delay_seconds=RETRY_DELAY_S,
    retry_jitter_factor=RETRY_JITTER_FACTOR,
    retry_condition_fn=is_transient,
)
def replan_task(horizon_weeks: int, budget_s: float, move_bookings: bool) -> PlanView:
    """Plan all open cases around their bookings, as the flows' named system user."""
    ctx = bootstrap.context(user_id=FLOWS_USER)
    return plan_schedule(
        ctx, horizon_weeks=horizon_weeks, budget_s=budget_s, move_bookings=move_bookings
    )


@flow(name="schedule-replan", log_prints=False)
def replan_flow(
    horizon_weeks: int = 10, budget_s: float = 60.0, move_bookings: bool = False
) -> PlanView:
    """Re-plan the open cases; booked family appointments stay unless moving is allowed."""
    return replan_task(horizon_weeks, budget_s, move_bookings)
