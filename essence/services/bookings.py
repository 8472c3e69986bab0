"""Bookings follow the steps, inside the transaction that changes the case.

Completing a step marks its appointment attended (on the real day); a step that is no
longer open, or a case that is paused or withdrawn, loses its booked appointments at once;
a reassigned step keeps its booking when the new clinician can take it as it is (the
plan checker's rules for their day). Nothing here commits: the calling use case does,
once, for the case and its bookings together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from essence.domain.calendar import add_working_days, local_date
from essence.domain.case import Case
from essence.domain.family import FamilyNeeds
from essence.domain.states import ACTIVE_CASE_STATES, StepState
from essence.domain.team import Absence, Clinician
from essence.services.ports import AppointmentStatus, UnitOfWork

if TYPE_CHECKING:  # the scheduler's types load only when used
    from essence.scheduling.clinic_problem import Appointment


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


def release_days_the_family_cannot_come(
    uow: UnitOfWork, case: Case, needs: FamilyNeeds, now: datetime
) -> list[str]:
    """Cancel the case's booked family-facing appointments on days `needs` blocks (the
    family's weekdays and dates), in the calling transaction; their steps lose their
    planned day and wait for the next plan.

    Returns:
        The keys of the steps whose bookings were released, in pathway order.
    """
    blocked = {
        a.step_key
        for a in uow.appointments.list(case_ids=[case.id])
        if a.family_facing and needs.blocks(a.day)
    }
    if not blocked:
        return []
    keys = [key for key in case.template.keys if key in blocked]
    _release(uow, case, keys, now)
    uow.cases.save(case)
    return keys


def release_bookings_in_absence(
    uow: UnitOfWork, clinician_id: str, absence: Absence, now: datetime
) -> tuple[list[str], list[str]]:
    """Cancel the clinician's booked appointments on the days of `absence`, except inside
    the frozen window (those were given to the family and stay; someone covers), in the
    calling transaction; their steps lose their planned day and wait for the next plan.

    Returns:
        ("case/step" released, "case/step" kept in the frozen window).
    """
    from essence.scheduling.clinic_problem import PlanSettings

    today = local_date(now)
    frozen_end = add_working_days(today, PlanSettings(start=today).frozen_working_days)
    hit = [
        a
        for a in uow.appointments.list(
            first_day=max(today, absence.first_day), last_day=absence.last_day
        )
        if clinician_id in a.clinician_ids
    ]
    kept = [f"{a.case_id}/{a.step_key}" for a in hit if a.day < frozen_end]
    by_case: dict[str, list[str]] = {}
    for appointment in hit:
        if appointment.day >= frozen_end:
            by_case.setdefault(appointment.case_id, []).append(appointment.step_key)
    released = []
    for case in uow.cases.list(ids=sorted(by_case)):
        _release(uow, case, by_case[case.id], now)
        uow.cases.save(case)
        released += [f"{case.id}/{key}" for key in by_case[case.id]]
    return released, kept


def _release(uow: UnitOfWork, case: Case, keys: list[str], now: datetime) -> None:
    """Cancel the booked appointments of the steps `keys`; they lose their planned day
    and place and wait for the next plan (the caller saves the case)."""
    uow.appointments.cancel_booked(case.id, now, keys)
    for key in keys:
        case.steps[key].planned_on, case.steps[key].planned_place = None, ""


def follow_reassignment(
    uow: UnitOfWork, case: Case, step_key: str, clinicians: dict[str, Clinician], now: datetime
) -> str:
    """Move a reassigned step's booking to its new clinicians when they can take it as it
    is (`_can_take`), else release it for the next plan.

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
    if all(c and _can_take(uow, clinicians.get(c), appointment, case) for c in newcomers):
        moved = replace(appointment, clinician_ids=wanted, moved=True)
        others = [a for a in uow.appointments.list(case_ids=[case.id]) if a.step_key != step_key]
        uow.appointments.sync(case.id, [*others, moved], now)
        step.planned_on = appointment.day
        return "moved"
    _release(uow, case, [step_key], now)
    return "released"


def _can_take(uow: UnitOfWork, clinician: Clinician | None, slot: Appointment, case: Case) -> bool:
    """True when `clinician` can take over the booked `slot` as it is: the day with it
    keeps every rule the plan checker applies to one clinician's day (roster minutes,
    working hours, lunch, no overlap), and neither it nor their other bookings that day
    are away from their base (a drive the plan did not make room for)."""
    from essence.scheduling.clinic_check import fits_clinician_day

    if clinician is None or not clinician.active:
        return False
    day = [slot] + [
        other
        for other in uow.appointments.list(first_day=slot.day, last_day=slot.day)
        if clinician.id in other.clinician_ids
        and not (other.case_id == case.id and other.step_key == slot.step_key)
    ]
    if any(_away_from(clinician, appointment) for appointment in day):
        return False
    travel = _travel_minutes(uow, case, day)
    return fits_clinician_day(clinician, slot.day, day, lambda a: travel[(a.case_id, a.step_key)])


def _away_from(clinician: Clinician, appointment: Appointment) -> bool:
    place = appointment.place
    in_person = place.kind not in ("video", "internal") and bool(place.municipality)
    return in_person and place.municipality != clinician.base


def _travel_minutes(
    uow: UnitOfWork, case: Case, appointments: list[Appointment]
) -> dict[tuple[str, str], int]:
    """Local travel minutes each way of each appointment's step (from its case's pathway)."""
    others = {a.case_id for a in appointments} - {case.id}
    cases = {case.id: case, **{c.id: c for c in uow.cases.list(ids=sorted(others))}}
    return {
        (a.case_id, a.step_key): cases[a.case_id].definition(a.step_key).travel_minutes
        for a in appointments
    }
