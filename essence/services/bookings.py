"""Bookings follow the steps, inside the transaction that changes the case.

Completing a step marks its appointment attended (on the real day); a step that is no
longer open, or a case that is paused or withdrawn, loses its booked appointments at once;
a reassigned step keeps its booking when the new clinician is free then. Nothing here
commits: the calling use case does, once, for the case and its bookings together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from essence.domain.case import Case
from essence.domain.states import ACTIVE_CASE_STATES, StepState
from essence.domain.team import Clinician
from essence.services.ports import AppointmentStatus, UnitOfWork


def reconcile_bookings(
    uow: UnitOfWork, case: Case, now: datetime, *, release: Iterable[str] = ()
) -> dict[str, int]:
    """Bring a case's booked appointments in line with its steps.

    A completed step's booking becomes attended (moved to the day it was done); a booking
    of a step that is not open, of a paused, withdrawn or closed case, or of a step in
    `release` (reverted, sent back to requested) is cancelled.

    Args:
        uow: The open unit of work of the calling use case.
        case: The case as just changed (not necessarily saved yet).
        now: When the change happens.
        release: Step keys whose bookings go even though the step is open.

    Returns:
        How many appointments became attended and cancelled: {"attended": n, "cancelled": m}.
    """
    released = set(release)
    working = case.state in ACTIVE_CASE_STATES
    counts = {"attended": 0, "cancelled": 0}
    for appointment in uow.appointments.list(case_ids=[case.id]):
        step = case.steps.get(appointment.step_key)
        if step is None:
            continue
        if step.state is StepState.COMPLETED and step.key not in released:
            counts["attended"] += uow.appointments.mark(
                case.id, step.key, AppointmentStatus.ATTENDED, now, on=step.completed_on
            )
        elif not step.is_open or not working or step.key in released:
            counts["cancelled"] += uow.appointments.cancel_booked(case.id, now, [step.key])
    return counts


def follow_reassignment(
    uow: UnitOfWork, case: Case, step_key: str, clinicians: dict[str, Clinician], now: datetime
) -> str:
    """Move a reassigned step's booking to its new clinicians when they are free then,
    else release it for the next plan.

    Returns:
        "moved", "released" or "" (no booking, or the same clinicians).
    """
    booked = [a for a in uow.appointments.list(case_ids=[case.id]) if a.step_key == step_key]
    if not booked:
        return ""
    appointment = booked[0]
    step, definition = case.steps[step_key], case.definition(step_key)
    wanted = tuple(step.assignees.get(p, "") for p in definition.professions)
    if wanted == appointment.clinician_ids:
        return ""
    newcomers = [c for c in wanted if c not in appointment.clinician_ids]
    if all(c and _free(uow, clinicians.get(c), appointment, case.id) for c in newcomers):
        moved = replace(appointment, clinician_ids=wanted, moved=True)
        others = [a for a in uow.appointments.list(case_ids=[case.id]) if a.step_key != step_key]
        uow.appointments.sync(case.id, [*others, moved], now)
        step.planned_on = appointment.day
        return "moved"
    uow.appointments.cancel_booked(case.id, now, [step_key])
    step.planned_on, step.planned_place = None, ""
    return "released"


def _free(uow: UnitOfWork, clinician: Clinician | None, slot: object, case_id: str) -> bool:
    """True when `clinician` works that day and has no other booking overlapping the slot."""
    if clinician is None or not clinician.active:
        return False
    day = slot.day  # type: ignore[attr-defined]
    if clinician.minutes_on(day) <= 0:
        return False
    for other in uow.appointments.list(first_day=day, last_day=day):
        if clinician.id not in other.clinician_ids:
            continue
        if other.case_id == case_id and other.step_key == slot.step_key:  # type: ignore[attr-defined]
            continue
        if other.start < slot.end and slot.start < other.end:  # type: ignore[attr-defined]
            return False
    return True
