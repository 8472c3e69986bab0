"""Use cases of clinicians: the worklist, and starting, completing or holding a step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from essence.domain.access import Role, User, require_case_access, require_role, require_step_access
from essence.domain.calendar import local_date
from essence.domain.case import Case
from essence.domain.errors import InvalidInput
from essence.domain.states import StepState
from essence.services.case_views import work_item_view
from essence.services.context import ServiceContext, audit_cases, run_use_case
from essence.services.ports import UnitOfWork
from essence.services.views import StepChange, WorkItemView

WORKLIST_STATES = (StepState.READY, StepState.IN_PROGRESS, StepState.ON_HOLD)
BOOKED_AHEAD_DAYS = 7


def worklist(
    ctx: ServiceContext,
    clinician_id: str | None = None,
    *,
    include_held: bool = True,
    booked_days: int = BOOKED_AHEAD_DAYS,
) -> list[WorkItemView]:
    """Steps assigned to a clinician: those that can be worked on now (ready, in progress,
    held) and those booked within `booked_days` days that still wait for a prerequisite.

    Clinicians see only their own list; coordinators may look at anyone's.
    """

    def body(uow: UnitOfWork, user: User) -> list[WorkItemView]:
        target = clinician_id or user.clinician_id
        if target is None:
            raise InvalidInput("clinician", "", "give --clinician ID")
        if user.role is Role.CLINICIAN and target != user.clinician_id:
            require_role(user, f"see the worklist of {target}", Role.COORDINATOR)
        require_role(user, "see a worklist", Role.COORDINATOR, Role.CLINICIAN)
        uow.clinicians.get(target)
        states = [s.value for s in WORKLIST_STATES if include_held or s is not StepState.ON_HOLD]
        booked_until = local_date(ctx.clock()) + timedelta(days=booked_days)
        items = uow.cases.worklist(target, states, booked_until)
        cases = {c.id: c for c in uow.cases.list(ids={i.case_id for i in items})}
        views = [work_item_view(cases[i.case_id], i.step_key, target) for i in items]
        starts = uow.appointments.start_times(cases)
        for view in views:
            begins = starts.get((view.case_id, view.step_key))
            view.planned_start = f"{begins:%H:%M}" if begins and view.planned_on else None
        audit_cases(ctx, uow, user, "worklist", sorted(cases))
        return views

    return run_use_case(ctx, "worklist", body)


def _change_step(
    ctx: ServiceContext,
    action: str,
    case_id: str,
    step_key: str,
    change: Callable[[Case], list[str]],
    *,
    coordinator_only: bool = False,
) -> StepChange:
    def body(uow: UnitOfWork, user: User) -> StepChange:
        if coordinator_only:
            require_role(user, action, Role.COORDINATOR)
        case = uow.cases.get(case_id)
        require_case_access(user, case, f"{action} on case {case_id}")
        case.step(step_key)
        require_step_access(user, case, step_key, f"{action} step {step_key}")
        newly_ready = change(case)
        uow.cases.save(case)
        audit_cases(ctx, uow, user, action, [case.id], step_key)
        return StepChange(
            case_id=case.id,
            step_key=step_key,
            state=case.steps[step_key].state.value,
            case_state=case.state.value,
            newly_ready=newly_ready,
        )

    return run_use_case(ctx, action, body, case_id=case_id)


def start_step(ctx: ServiceContext, case_id: str, step_key: str) -> StepChange:
    """Start a ready step (needs both guardians' consent on record)."""

    def change(case: Case) -> list[str]:
        case.start_step(step_key, ctx.clock())
        return []

    return _change_step(ctx, "step.start", case_id, step_key, change)


def complete_step(
    ctx: ServiceContext, case_id: str, step_key: str, outcome: str = ""
) -> StepChange:
    """Complete a ready or started step with a short outcome note; successors become ready."""

    def change(case: Case) -> list[str]:
        now = ctx.clock()
        newly_ready = case.complete_step(step_key, now, ctx.user_id or "system", outcome)
        case.advance(local_date(now))
        return newly_ready

    return _change_step(ctx, "step.complete", case_id, step_key, change)


def hold_step(ctx: ServiceContext, case_id: str, step_key: str, reason: str) -> StepChange:
    """Put a step on hold with a reason (e.g. the child is ill)."""

    def change(case: Case) -> list[str]:
        case.hold_step(step_key, reason)
        return []

    return _change_step(ctx, "step.hold", case_id, step_key, change)


def resume_step(ctx: ServiceContext, case_id: str, step_key: str) -> StepChange:
    """Take a held step back to where it was."""

    def change(case: Case) -> list[str]:
        case.resume_step(step_key)
        return []

    return _change_step(ctx, "step.resume", case_id, step_key, change)


def cancel_step(ctx: ServiceContext, case_id: str, step_key: str, reason: str) -> StepChange:
    """Cancel a step that is not needed for this child (coordinators only)."""
    return _change_step(
        ctx,
        "step.cancel",
        case_id,
        step_key,
        lambda case: case.cancel_step(step_key, ctx.clock(), reason),
        coordinator_only=True,
    )
