"""The daily sweep: advance waiting steps, list overdue steps, steps needing review after a
correction, and cases at risk.

Runs as a real user: a coordinator or admin (`essence sweep`), or the named system user
the Prefect flows act as (`FLOWS_USER`); what it reads and changes is audited as that user.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel

from essence.domain.access import Role, User, require_role
from essence.domain.calendar import local_date
from essence.domain.case import Case
from essence.domain.metrics import case_metrics
from essence.domain.states import StepState
from essence.services.context import ServiceContext, audit_cases, audit_event, run_use_case
from essence.services.ports import UnitOfWork
from essence.services.reporting import CaseLine, case_line

SWEEP_RUN = "sweep.run"


def sweep_detail(overdue: list[OverdueStep]) -> str:
    """The figures a sweep leaves in its audit row (read back by the metrics)."""
    return f"overdue={len(overdue)}"


class OverdueStep(BaseModel):
    """A step that should have been done by now."""

    case_id: str
    step_key: str
    state: str
    assignees: list[str]
    expected_by: date
    days_overdue: int


class ReviewStep(BaseModel):
    """A started or completed step flagged for review after a correction before it."""

    case_id: str
    step_key: str
    state: str


class SweepView(BaseModel):
    """The daily sweep's findings."""

    as_of: date
    waiting_steps_completed: int
    overdue_steps: list[OverdueStep]
    at_risk_90: list[CaseLine]
    at_risk_140: list[CaseLine]
    open_cases: int
    needs_review: list[ReviewStep] = []
    paused_cases: list[str] = []


def advance_waiting_steps(ctx: ServiceContext) -> int:
    """Complete every waiting step whose time has passed (e.g. questionnaires), as the system.

    Returns:
        How many waiting steps were completed.
    """

    def body(uow: UnitOfWork, user: User) -> int:
        today = local_date(ctx.clock())
        completed = 0
        for case in uow.cases.list(open_only=True):
            done = case.advance(today)
            if done:
                uow.cases.save(case)
                audit_cases(ctx, uow, user, "case.advance", [case.id], ",".join(done))
                completed += len(done)
        return completed

    return run_use_case(ctx.as_system(), "case.advance", body)


def daily_sweep(ctx: ServiceContext) -> SweepView:
    """Advance waiting steps, then list overdue steps, steps needing review and cases at
    risk, in one transaction, as the acting user (coordinators and admins only).

    Raises:
        PermissionDenied: for clinicians and planners (audited).
    """

    def body(uow: UnitOfWork, user: User) -> SweepView:
        require_role(user, "run the daily sweep", Role.COORDINATOR)
        today = local_date(ctx.clock())
        cases = uow.cases.list(open_only=True)
        completed = 0
        for case in cases:
            done = case.advance(today)
            if done:
                uow.cases.save(case)
                audit_cases(ctx, uow, user, "case.advance", [case.id], ",".join(done))
                completed += len(done)
        overdue = [o for c in cases for o in _overdue_steps(c, today)]
        lines = [case_line(case_metrics(c, today)) for c in cases]
        review = [
            ReviewStep(case_id=c.id, step_key=k, state=s.state.value)
            for c in cases
            for k, s in c.steps.items()
            if s.needs_review
        ]
        audit_cases(ctx, uow, user, "sweep", [c.id for c in cases])
        uow.audit.record([audit_event(ctx, user, SWEEP_RUN, None, "ok", sweep_detail(overdue))])
        return SweepView(
            as_of=today,
            waiting_steps_completed=completed,
            overdue_steps=sorted(overdue, key=lambda o: -o.days_overdue),
            at_risk_90=[line for line in lines if line.at_risk_90],
            at_risk_140=[line for line in lines if line.at_risk_140],
            open_cases=len(cases),
            needs_review=review,
            paused_cases=[c.id for c in cases if c.paused],
        )

    return run_use_case(ctx, "sweep", body)


def _overdue_steps(case: Case, today: date) -> list[OverdueStep]:
    found = []
    for key, step in case.steps.items():
        if step.state not in (StepState.READY, StepState.IN_PROGRESS, StepState.ON_HOLD):
            continue
        expected = step.planned_on or (
            (step.ready_on or today) + timedelta(days=case.template.lead_days(key))
        )
        if expected < today:
            found.append(
                OverdueStep(
                    case_id=case.id,
                    step_key=key,
                    state=step.state.value,
                    assignees=sorted(set(step.assignees.values())),
                    expected_by=expected,
                    days_overdue=(today - expected).days,
                )
            )
    return found


def advance_case(ctx: ServiceContext, case_id: str) -> list[str]:
    """Bring one case up to date after a change: complete waiting steps whose time has passed.

    Returns:
        Keys of the waiting steps completed.
    """

    def body(uow: UnitOfWork, user: User) -> list[str]:
        case = uow.cases.get(case_id)
        done = case.advance(local_date(ctx.clock()))
        if done:
            uow.cases.save(case)
            audit_cases(ctx, uow, user, "case.advance", [case.id], ",".join(done))
        return done

    return run_use_case(ctx.as_system(), "case.advance", body, case_id=case_id)
