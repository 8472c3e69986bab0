"""An independent check of a finished plan against the rules, from the plan's own appointments.

Used by tests and the benchmark to show that a plan keeps every constraint family; returns
human-readable findings (an empty list means the plan keeps every rule checked).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from essence.domain.calendar import at_local
from essence.domain.team import Clinician
from essence.scheduling.clinic_problem import Appointment, Plan, PlanningCase


def check_plan(
    plan: Plan, cases: Sequence[PlanningCase], clinicians: Sequence[Clinician]
) -> list[str]:
    """Every rule a plan breaks, one line each (bookings that were frozen are exempt).

    Checks: working days and roster minutes per clinician-day, the professions of each
    step (a joint step has all its clinicians in one slot), no double booking of a
    clinician or a family, the family's minutes and one place per day, prerequisites in
    order with their waiting days, and appointments inside the working day.
    """
    team = {c.id: c for c in clinicians}
    by_case = {c.case_id: c for c in cases}
    findings: list[str] = []
    findings += _clinician_days(plan, team)
    findings += _professions(plan, team, by_case)
    findings += _overlaps(plan)
    findings += _family_days(plan)
    findings += _prerequisites(plan, by_case)
    findings += _working_hours(plan)
    return findings


def _clinician_days(plan: Plan, team: dict[str, Clinician]) -> list[str]:
    minutes: dict[tuple[str, object], int] = defaultdict(int)
    for appointment in plan.appointments:
        for clinician_id in appointment.clinician_ids:
            minutes[(clinician_id, appointment.day)] += appointment.minutes
    findings = []
    for (clinician_id, day), used in sorted(minutes.items(), key=str):
        available = team[clinician_id].minutes_on(day)  # type: ignore[arg-type]
        if used > available:
            findings.append(f"{clinician_id} on {day}: {used} min booked, {available} available")
    return findings


def _professions(
    plan: Plan, team: dict[str, Clinician], cases: dict[str, PlanningCase]
) -> list[str]:
    findings = []
    for appointment in plan.appointments:
        step = cases[appointment.case_id].template.step(appointment.step_key)
        have = sorted(team[c].profession.value for c in appointment.clinician_ids)
        if have != sorted(p.value for p in step.professions):
            findings.append(f"{appointment.case_id}/{appointment.step_key}: professions {have}")
    return findings


def _overlaps(plan: Plan) -> list[str]:
    slots: dict[str, list[Appointment]] = defaultdict(list)
    for appointment in plan.appointments:
        for clinician_id in appointment.clinician_ids:
            slots[clinician_id].append(appointment)
        if appointment.family_facing:
            slots[f"family of {appointment.case_id}"].append(appointment)
    findings = []
    for owner, items in slots.items():
        items.sort(key=lambda a: a.start)
        for first, second in itertools.pairwise(items):
            if second.start < first.end:
                findings.append(
                    f"{owner}: {first.step_key} and {second.step_key} overlap on {first.day}"
                )
    return findings


def _family_days(plan: Plan) -> list[str]:
    minutes: dict[tuple[str, object], int] = defaultdict(int)
    places: dict[tuple[str, object], set[str]] = defaultdict(set)
    for appointment in plan.appointments:
        if appointment.family_facing:
            minutes[(appointment.case_id, appointment.day)] += appointment.minutes
            if appointment.place.kind != "video":
                places[(appointment.case_id, appointment.day)].add(appointment.place.describe())
    limit = plan.settings.family_max_minutes
    findings = [
        f"family of {case_id} on {day}: {used} min > {limit}"
        for (case_id, day), used in minutes.items()
        if used > limit
    ]
    findings += [
        f"family of {case_id} on {day}: in {len(where)} places"
        for (case_id, day), where in places.items()
        if len(where) > 1
    ]
    return findings


def _prerequisites(plan: Plan, cases: dict[str, PlanningCase]) -> list[str]:
    ends = {(a.case_id, a.step_key): a for a in plan.appointments}
    findings = []
    for appointment in plan.appointments:
        case = cases[appointment.case_id]
        for required, lag in _requirements(case, appointment.step_key):
            before = ends.get((case.case_id, required))
            if before is None or (before.booked and appointment.booked):
                continue
            earliest = before.end
            if lag:
                earliest = at_local(before.day + timedelta(days=lag), 0, 0)
            if appointment.start < earliest:
                findings.append(
                    f"{case.case_id}/{appointment.step_key} starts before {required} + {lag} d"
                )
    return findings


def _requirements(case: PlanningCase, key: str) -> list[tuple[str, int]]:
    """Staff steps a step waits for, with the waiting days in between."""
    result = []
    for required in case.template.step(key).requires:
        step = case.template.step(required)
        if step.is_waiting:
            result += [(k, lag + step.wait_days) for k, lag in _requirements(case, required)]
        else:
            result.append((required, 0))
    return result


def _working_hours(plan: Plan) -> list[str]:
    settings = plan.settings
    findings = []
    for appointment in plan.appointments:
        opens = at_local(appointment.day, 0, 0) + timedelta(minutes=settings.day_start_minute)
        closes: datetime = opens + timedelta(minutes=settings.workday_minutes)
        if appointment.start < opens or appointment.end > closes:
            findings.append(
                f"{appointment.case_id}/{appointment.step_key} at {appointment.start:%H:%M}"
                f"-{appointment.end:%H:%M} is outside the working day"
            )
    return findings
