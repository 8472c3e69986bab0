"""Use cases on steps: the worklist; start, complete, hold, resume, cancel; corrections
(revert), no-shows and reviews. Bookings follow each change in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from essence.domain.access import Role, User, require_case_access, require_role, require_step_access
from essence.domain.calendar import STOCKHOLM, local_date
from essence.domain.case import Case
from essence.domain.errors import IllegalTransition, InvalidInput
from essence.domain.messages import N_
from essence.domain.states import StepState
from essence.services.bookings import reconcile_bookings
from essence.services.case_views import work_item_view
from essence.services.context import ServiceContext, audit_cases, run_use_case
from essence.services.ports import UnitOfWork
from essence.services.views import StepChange, WorkItemView

if TYPE_CHECKING:
    from essence.scheduling.clinic_problem import Appointment

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
            raise InvalidInput("clinician", "", N_("give --clinician ID"))
        if user.role is Role.CLINICIAN and target != user.clinician_id:
            require_role(user, f"see the worklist of {target}", Role.COORDINATOR)
        require_role(user, "see a worklist", Role.COORDINATOR, Role.CLINICIAN)
        uow.clinicians.get(target)
        states = [s.value for s in WORKLIST_STATES if include_held or s is not StepState.ON_HOLD]
        booked_until = local_date(ctx.clock()) + timedelta(days=booked_days)
        items = uow.cases.worklist(target, states, booked_until)
        case_ids = sorted({i.case_id for i in items})
        booked = {(a.case_id, a.step_key): a for a in uow.appointments.list(case_ids=case_ids)}
        views = [
            _with_time(work_item_view(i, target), booked.get((i.case_id, i.step_key)))
            for i in items
        ]
        audit_cases(ctx, uow, user, "worklist", case_ids)
        return views

    return run_use_case(ctx, "worklist", body)


def _with_time(view: WorkItemView, appointment: Appointment | None) -> WorkItemView:
    """The worklist line with its booked clock times (None when not booked)."""
    if appointment is None:
        return view
    starts_at = appointment.start.astimezone(STOCKHOLM)
    return view.model_copy(
        update={
            "starts_at": starts_at,
            "ends_at": appointment.end.astimezone(STOCKHOLM),
            "planned_start": f"{starts_at:%H:%M}",
        }
    )


def _change_step(
    ctx: ServiceContext,
    action: str,
    case_id: str,
    step_key: str,
    change: Callable[[Case], list[str]],
    *,
    coordinator_only: bool = False,
    detail: str = "",
    release: Callable[[Case], list[str]] | None = None,
    actor: list[User] | None = None,
) -> StepChange:
    """Load, check access, change, save, follow with the bookings and audit: one transaction.

    Args:
        change: Changes the case; returns the keys of the steps that became ready.
        detail: Extra audit detail (a reason; never personal data).
        release: Returns step keys whose bookings go although the steps stay open.
    """

    def body(uow: UnitOfWork, user: User) -> StepChange:
        if actor is not None:
            actor[:] = [user]
        if coordinator_only:
            require_role(user, action, Role.COORDINATOR)
        case = uow.cases.get(case_id)
        require_case_access(user, case, f"{action} on case {case_id}")
        case.step(step_key)
        require_step_access(user, case, step_key, f"{action} step {step_key}")
        before = {k: s.state for k, s in case.steps.items()}
        newly_ready = change(case)
        released = release(case) if release else []
        counts = reconcile_bookings(uow, case, ctx.clock(), release=released)
        uow.cases.save(case)
        audit_cases(ctx, uow, user, action, [case.id], f"{step_key} {detail}".strip())
        return StepChange(
            case_id=case.id,
            step_key=step_key,
            state=case.steps[step_key].state.value,
            case_state=case.state.value,
            newly_ready=newly_ready,
            back_to_requested=[
                k
                for k, s in case.steps.items()
                if k != step_key
                and s.state is StepState.REQUESTED
                and before[k] is not StepState.REQUESTED
            ],
            needs_review=[k for k, s in case.steps.items() if s.needs_review],
            appointments_cancelled=counts["cancelled"],
            appointments_attended=counts["attended"],
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
    """Cancel a skippable step that this child does not need (coordinators only, after
    consent); its bookings are cancelled at once.

    Raises:
        IllegalTransition: the step is not skippable (withdraw the case instead).
        ConsentMissing: consent is not in.
        InvalidInput: an empty reason.
    """
    return _change_step(
        ctx,
        "step.cancel",
        case_id,
        step_key,
        lambda case: case.cancel_step(step_key, ctx.clock(), reason),
        coordinator_only=True,
        detail=_reason(reason),
    )


def revert_step(ctx: ServiceContext, case_id: str, step_key: str, reason: str) -> StepChange:
    """Correct a completion or cancellation entered in error (coordinators only).

    The step goes back to ready (or requested), successors not started go back to
    requested, started or completed ones are flagged "needs review"; bookings of the step
    and of the steps sent back are cancelled at once. Audited with the reason.

    Raises:
        IllegalTransition: the step is neither completed nor cancelled, or the case is
            closed or withdrawn.
        InvalidInput: an empty reason.
    """
    return _revert(ctx, "step.revert", case_id, step_key, reason, coordinator_only=True)


UNDO_MINUTES = 10


def undo_completion(
    ctx: ServiceContext, case_id: str, step_key: str, *, minutes: int = UNDO_MINUTES
) -> StepChange:
    """Undo one's own completion within `minutes` of it (a revert under the hood).

    The clinician who completed the step (or a coordinator) may take it back for a short
    while, e.g. after tapping "complete" on the wrong child; later corrections are a
    coordinator's `revert_step` with a reason.

    Raises:
        IllegalTransition: the step is not completed, or the time to undo has passed.
        PermissionDenied: someone else completed it and the user is not a coordinator.
    """

    def check(case: Case, user: User) -> None:
        step = case.step(step_key)
        if step.state is not StepState.COMPLETED or step.completed_at is None:
            raise IllegalTransition(f"step {step_key}", step.state.value, "undone")
        if step.completed_by != user.id and user.role not in (Role.COORDINATOR, Role.ADMIN):
            require_role(user, f"undo the completion of {step_key} by someone else")
        if ctx.clock() - step.completed_at > timedelta(minutes=minutes):
            raise IllegalTransition(
                f"step {step_key}",
                "completed",
                "undone",
                N_("only within %(minutes)s minutes", minutes=minutes),
            )

    return _revert(
        ctx, "step.undo", case_id, step_key, f"undone within {minutes} minutes", check=check
    )


def _revert(
    ctx: ServiceContext,
    action: str,
    case_id: str,
    step_key: str,
    reason: str,
    *,
    coordinator_only: bool = False,
    check: Callable[[Case, User], None] | None = None,
) -> StepChange:
    before: dict[str, StepState] = {}
    actor: list[User] = []

    def change(case: Case) -> list[str]:
        if check is not None:
            check(case, actor[0])
        before.update({k: s.state for k, s in case.steps.items()})
        case.revert_step(step_key, ctx.clock(), reason)
        return []

    def release(case: Case) -> list[str]:
        back = [
            k
            for k, s in case.steps.items()
            if s.state is StepState.REQUESTED and before.get(k) is not StepState.REQUESTED
        ]
        return sorted({step_key, *back})

    return _change_step(
        ctx,
        action,
        case_id,
        step_key,
        change,
        coordinator_only=coordinator_only,
        detail=_reason(reason),
        release=release,
        actor=actor,
    )


def record_no_show(ctx: ServiceContext, case_id: str, step_key: str) -> StepChange:
    """The family missed the step's booked appointment: it becomes a no-show (counted in
    the metrics) and the step is free to be booked again. The step's clinicians or a
    coordinator record it.

    Raises:
        InvalidInput: the step has no booked appointment.
        IllegalTransition: the step is not open.
    """

    def body(uow: UnitOfWork, user: User) -> StepChange:
        case = uow.cases.get(case_id)
        require_case_access(user, case, f"step.no-show on case {case_id}")
        case.step(step_key)
        require_step_access(user, case, step_key, f"record a no-show of step {step_key}")
        case.record_no_show(step_key)
        from essence.services.ports import AppointmentStatus

        missed = uow.appointments.mark(case.id, step_key, AppointmentStatus.NO_SHOW, ctx.clock())
        if not missed:
            raise InvalidInput("step", step_key, N_("has no booked appointment to miss"))
        uow.cases.save(case)
        audit_cases(ctx, uow, user, "step.no-show", [case.id], step_key)
        return StepChange(
            case_id=case.id,
            step_key=step_key,
            state=case.steps[step_key].state.value,
            case_state=case.state.value,
            newly_ready=[],
        )

    return run_use_case(ctx, "step.no-show", body, case_id=case_id)


def mark_reviewed(ctx: ServiceContext, case_id: str, step_key: str) -> StepChange:
    """Clear a step's "needs review" flag after a correction (coordinators only)."""
    return _change_step(
        ctx,
        "step.reviewed",
        case_id,
        step_key,
        _reviewed(step_key),
        coordinator_only=True,
    )


def _reviewed(step_key: str) -> Callable[[Case], list[str]]:
    def change(case: Case) -> list[str]:
        case.mark_reviewed(step_key)
        return []

    return change


def _reason(reason: str) -> str:
    cleaned = " ".join(reason.split())
    return f"reason: {cleaned}"[:150] if cleaned else ""
