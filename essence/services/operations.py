"""Figures for health checks and metrics: aggregate counts only, read as the system.

No case is loaded: states are counted in the database, and the overdue steps are those the
last daily sweep found (the sweep is the one place that decides what is overdue).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from essence.domain.access import User
from essence.services.context import ServiceContext, run_use_case
from essence.services.ports import UnitOfWork
from essence.services.sweep import SWEEP_RUN


class OpsFigures(BaseModel):
    """What /metrics publishes about the work (no personal data).

    Attributes:
        cases_by_state: Number of cases per case state.
        steps_not_scheduled: Open cases' steps still to do that have no booking.
        overdue_steps: Overdue steps found by the last sweep (None before the first sweep).
        last_sweep_at: When the last sweep ran (None before the first).
    """

    cases_by_state: dict[str, int]
    steps_not_scheduled: int
    overdue_steps: int | None
    last_sweep_at: datetime | None


def ops_figures(ctx: ServiceContext) -> OpsFigures:
    """Count cases by state, unscheduled steps and read the last sweep's findings."""

    def body(uow: UnitOfWork, _user: User) -> OpsFigures:
        last = uow.ops.last_event(SWEEP_RUN)
        overdue = None
        if last is not None:
            fields = dict(p.split("=", 1) for p in last[1].split() if "=" in p)
            overdue = int(fields["overdue"]) if fields.get("overdue", "").isdigit() else None
        return OpsFigures(
            cases_by_state=uow.ops.cases_by_state(),
            steps_not_scheduled=uow.ops.steps_not_scheduled(),
            overdue_steps=overdue,
            last_sweep_at=last[0] if last else None,
        )

    return run_use_case(ctx.as_system(), "ops.figures", body)
