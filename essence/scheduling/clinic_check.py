"""The independent plan checker: every rule a finished plan must keep, from its appointments.

It rebuilds nothing from the solver: it reads the plan, the cases and the team, and lists
findings (an empty list means the plan keeps every rule). The planner runs it on every
plan before returning it and repairs what it finds; tests and benchmarks run it too.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from essence.domain.calendar import add_working_days, at_local
from essence.domain.geography import road_km
from essence.domain.pathway import StepDefinition
from essence.domain.team import Clinician
from essence.scheduling.clinic_instance import family_drive_minutes
from essence.scheduling.clinic_problem import Appointment, Plan, PlanningCase, PlanSettings

_IN_PERSON = ("clinic", "home_municipality", "preschool")


@dataclass(frozen=True)
class Finding:
    """One broken rule.

    Attributes:
        rule: Short name of the rule (e.g. "working-hours").
        case_id: The case whose appointment breaks it.
        step_key: The step whose appointment breaks it.
        text: What is wrong, in one line (no personal data).
    """

    rule: str
    case_id: str
    step_key: str
    text: str

    def __str__(self) -> str:
        return f"{self.case_id}/{self.step_key}: {self.text} [{self.rule}]"


@dataclass
class _Context:
    plan: Plan
    settings: PlanSettings
    team: dict[str, Clinician]
    cases: dict[str, PlanningCase]
    frozen_kept: set[tuple[str, str]]
    frozen_end: date

    def minute(self, appointment: Appointment) -> int:
        return appointment.start.hour * 60 + appointment.start.minute

    def exempt(self, appointment: Appointment) -> bool:
        """A frozen booking kept at its booked time was given to the family: it stays."""
        return (appointment.case_id, appointment.step_key) in self.frozen_kept

    def travel(self, appointment: Appointment) -> int:
        return self.step(appointment).travel_minutes

    def step(self, appointment: Appointment) -> StepDefinition:
        return self.cases[appointment.case_id].template.step(appointment.step_key)


def check_plan(
    plan: Plan, cases: Sequence[PlanningCase], clinicians: Sequence[Clinician]
) -> list[Finding]:
    """Every rule the plan breaks, one finding each.

    Rules: prerequisites and waiting days; roster minutes (holidays and absences have
    none); each clinician's working hours, lunch break and drives of a trip day; the clock
    grid; professions of each step (a joint step has all its clinicians in one slot); no
    double booking of a clinician or a family; the family's day (4-hour cap, one place,
    travel window from home after leaving and home in time, blocked weekdays and dates,
    interpreter minutes); one trip destination per clinician-day and no in-person work at
    the base that day; the team travels only within the round-trip limit; frozen bookings
    unchanged; no new family appointment inside the frozen window or before the start, and
    nothing new on the first day before the plan was made (`not_before_minute`).
    """
    context = _context(plan, cases, clinicians)
    findings: list[Finding] = []
    for rule in (
        _prerequisites,
        _roster_minutes,
        _working_hours,
        _lunch_breaks,
        _grid,
        _professions,
        _overlaps,
        _family_days,
        _family_needs,
        _trips,
        _frozen,
    ):
        findings += rule(context)
    return findings


def _context(
    plan: Plan, cases: Sequence[PlanningCase], clinicians: Sequence[Clinician]
) -> _Context:
    settings = plan.settings
    by_case = {c.case_id: c for c in cases}
    frozen_end = _frozen_end(settings)
    planned = {(a.case_id, a.step_key): a for a in plan.appointments}
    kept = set()
    for case in cases:
        for booking in case.bookings:
            appointment = planned.get((case.case_id, booking.step_key))
            if booking.day < frozen_end and appointment is not None:
                minute = appointment.start.hour * 60 + appointment.start.minute
                if appointment.day == booking.day and minute == booking.start_minute:
                    kept.add((case.case_id, booking.step_key))
    return _Context(plan, settings, {c.id: c for c in clinicians}, by_case, kept, frozen_end)


def _frozen_end(settings: PlanSettings) -> date:
    if settings.frozen_working_days == 0:
        return settings.start
    return add_working_days(settings.start, settings.frozen_working_days)


def _finding(rule: str, appointment: Appointment, text: str) -> Finding:
    return Finding(rule, appointment.case_id, appointment.step_key, text)


def _prerequisites(ctx: _Context) -> list[Finding]:
    ends = {(a.case_id, a.step_key): a for a in ctx.plan.appointments}
    findings = []
    for appointment in ctx.plan.appointments:
        case = ctx.cases[appointment.case_id]
        done = dict(case.completed)
        done.update({b.step_key: b.day for b in case.bookings if b.day < ctx.settings.start})
        for required, lag in _requirements(case, appointment.step_key):
            if required in done:
                earliest_day = done[required] + timedelta(days=lag)
                if appointment.day < earliest_day and not ctx.exempt(appointment):
                    findings.append(
                        _finding("prerequisite", appointment, f"before {required} + {lag} d")
                    )
                continue
            before = ends.get((case.case_id, required))
            if before is None:
                if not ctx.exempt(appointment):
                    findings.append(
                        _finding("prerequisite", appointment, f"{required} is not planned")
                    )
                continue
            if ctx.exempt(before) and ctx.exempt(appointment):
                continue
            earliest = before.end if lag == 0 else at_local(before.day + timedelta(days=lag), 0, 0)
            if appointment.start < earliest:
                findings.append(
                    _finding("prerequisite", appointment, f"starts before {required} + {lag} d")
                )
    return findings


def _requirements(case: PlanningCase, key: str) -> list[tuple[str, int]]:
    """Staff steps a step waits for, with the waiting days in between."""
    result = []
    for required in case.template.step(key).requires:
        step = case.template.step(required)
        if step.is_waiting:
            if required in case.completed:
                result.append((required, 0))
            else:
                result += [(k, lag + step.wait_days) for k, lag in _requirements(case, required)]
        else:
            result.append((required, 0))
    return result


def _roster_minutes(ctx: _Context) -> list[Finding]:
    minutes: dict[tuple[str, date], int] = defaultdict(int)
    first: dict[tuple[str, date], Appointment] = {}
    for appointment in ctx.plan.appointments:
        if ctx.exempt(appointment):
            continue
        for clinician_id in appointment.clinician_ids:
            key = (clinician_id, appointment.day)
            minutes[key] += appointment.minutes + 2 * ctx.travel(appointment)
            first.setdefault(key, appointment)
    findings = []
    for (clinician_id, day), used in sorted(minutes.items()):
        available = ctx.team[clinician_id].minutes_on(day)
        if used > available:
            why = "no ESSENCE minutes (holiday, absence or roster)" if not available else ""
            findings.append(
                _finding(
                    "roster",
                    first[(clinician_id, day)],
                    f"{clinician_id} on {day}: {used} min booked, {available} available {why}",
                )
            )
    return findings


def _working_hours(ctx: _Context) -> list[Finding]:
    findings = []
    for appointment in ctx.plan.appointments:
        if ctx.exempt(appointment):
            continue
        travel = ctx.travel(appointment)
        low, high = ctx.minute(appointment) - travel, ctx.minute(appointment) + appointment.minutes
        high += travel
        if appointment.end.date() != appointment.day:
            high = 24 * 60 + 1
        for clinician_id in appointment.clinician_ids:
            clinician = ctx.team[clinician_id]
            start, end = clinician.hours_on(appointment.day)
            if low < start or high > end:
                clock = f"{appointment.start:%H:%M}-{appointment.end:%H:%M}"
                findings.append(
                    _finding(
                        "working-hours",
                        appointment,
                        f"{clinician_id} at {clock} "
                        f"is outside the working day {_hm(start)}-{_hm(end)}",
                    )
                )
    return findings


def _lunch_breaks(ctx: _Context) -> list[Finding]:
    """Each clinician keeps the lunch break free somewhere in its window."""
    by_day: dict[tuple[str, date], list[Appointment]] = defaultdict(list)
    for appointment in ctx.plan.appointments:
        for clinician_id in appointment.clinician_ids:
            by_day[(clinician_id, appointment.day)].append(appointment)
    findings = []
    for (clinician_id, day), items in sorted(by_day.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        lunch = ctx.team[clinician_id].lunch_on(day)
        if lunch is None or all(ctx.exempt(a) for a in items):
            continue
        blocks = [
            (ctx.minute(a) - ctx.travel(a), ctx.minute(a) + a.minutes + ctx.travel(a))
            for a in items
        ]
        blocks += _drives(ctx, clinician_id, day, items)
        if not _lunch_fits(lunch, blocks):
            findings.append(
                _finding(
                    "lunch", items[0], f"{clinician_id} has no {lunch[2]}-minute lunch on {day}"
                )
            )
    return findings


def _lunch_fits(lunch: tuple[int, int, int], blocks: list[tuple[int, int]]) -> bool:
    """True when (earliest start, latest end, minutes) of a lunch break leave that many
    minutes free of the busy `blocks` (start, end minutes) somewhere in the window."""
    low, high, minutes = lunch
    free_from = low
    for b_low, b_high in sorted(blocks):
        if min(b_low, high) - free_from >= minutes:
            return True
        free_from = max(free_from, b_high)
    return high - free_from >= minutes


def fits_clinician_day(
    clinician: Clinician,
    day: date,
    appointments: Sequence[Appointment],
    travel: Callable[[Appointment], int],
) -> bool:
    """True when one clinician's appointments of one day at base keep the checker's rules
    for that day: roster minutes, working hours, the lunch break and no overlaps.

    Args:
        clinician: The clinician.
        day: The day.
        appointments: All of the clinician's appointments that day. Drives to other
            municipalities are not judged here: a caller keeps days away from base out.
        travel: Local travel minutes each way of an appointment's step.
    """
    items = [(a.start.hour * 60 + a.start.minute, a.minutes, travel(a)) for a in appointments]
    used = sum(length + 2 * travel for _, length, travel in items)
    if used > clinician.minutes_on(day):
        return False
    blocks = sorted((start - travel, start + length + travel) for start, length, travel in items)
    if not blocks:
        return True
    first, last = clinician.hours_on(day)
    if blocks[0][0] < first or max(end for _, end in blocks) > last:
        return False
    if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(blocks)):
        return False
    lunch = clinician.lunch_on(day)
    return lunch is None or _lunch_fits(lunch, blocks)


def _drives(
    ctx: _Context, clinician_id: str, day: date, items: list[Appointment]
) -> list[tuple[int, int]]:
    """The drive out and back of a clinician's trip day (none at the base)."""
    clinician = ctx.team[clinician_id]
    away = [
        a.place.municipality
        for a in items
        if a.place.kind in _IN_PERSON and a.place.municipality != clinician.base
    ]
    if not away:
        return []
    one_way = _one_way(ctx, clinician.base, away[0])
    start, end = clinician.hours_on(day)
    return [(start, start + one_way), (end - one_way, end)]


def _one_way(ctx: _Context, base: str, destination: str) -> int:
    return round(2 * road_km(base, destination) * ctx.settings.travel_minutes_per_km) // 2


def _grid(ctx: _Context) -> list[Finding]:
    grid = ctx.settings.grid_minutes
    return [
        _finding("grid", a, f"starts at {a.start:%H:%M}, not on the {grid}-minute grid")
        for a in ctx.plan.appointments
        if ctx.minute(a) % grid and not ctx.exempt(a)
    ]


def _professions(ctx: _Context) -> list[Finding]:
    findings = []
    for appointment in ctx.plan.appointments:
        step = ctx.cases[appointment.case_id].template.step(appointment.step_key)
        have = sorted(ctx.team[c].profession.value for c in appointment.clinician_ids)
        if have != sorted(p.value for p in step.professions):
            findings.append(_finding("professions", appointment, f"professions {have}"))
        if len(set(appointment.clinician_ids)) != len(appointment.clinician_ids):
            findings.append(_finding("professions", appointment, "a clinician counted twice"))
    return findings


def _overlaps(ctx: _Context) -> list[Finding]:
    slots: dict[tuple[str, date], list[tuple[int, int, Appointment]]] = defaultdict(list)
    for appointment in ctx.plan.appointments:
        minute, travel = ctx.minute(appointment), ctx.travel(appointment)
        for clinician_id in appointment.clinician_ids:
            span = (minute - travel, minute + appointment.minutes + travel, appointment)
            slots[(clinician_id, appointment.day)].append(span)
        if appointment.family_facing:
            span = (minute, minute + appointment.minutes, appointment)
            slots[(f"family of {appointment.case_id}", appointment.day)].append(span)
    findings = []
    for (owner, day), items in slots.items():
        items.sort(key=lambda item: item[0])
        for first, second in itertools.pairwise(items):
            if second[0] < first[1] and not (ctx.exempt(first[2]) and ctx.exempt(second[2])):
                findings.append(
                    _finding(
                        "overlap", second[2], f"{owner}: overlaps {first[2].step_key} on {day}"
                    )
                )
    return findings


def _family_days(ctx: _Context) -> list[Finding]:
    minutes: dict[tuple[str, date], list[Appointment]] = defaultdict(list)
    for appointment in ctx.plan.appointments:
        if appointment.family_facing:
            minutes[(appointment.case_id, appointment.day)].append(appointment)
    limit = ctx.settings.family_max_minutes
    findings = []
    for (case_id, day), items in minutes.items():
        if all(ctx.exempt(a) for a in items):
            continue
        used = sum(a.minutes for a in items)
        if used > limit:
            findings.append(_finding("family-day", items[-1], f"{used} min on {day} > {limit}"))
        places = {a.place.describe() for a in items if a.place.kind != "video"}
        if len(places) > 1:
            findings.append(_finding("family-day", items[-1], f"{len(places)} places on {day}"))
        findings += _family_window(ctx, ctx.cases[case_id], items)
    return findings


def _family_window(ctx: _Context, case: PlanningCase, items: list[Appointment]) -> list[Finding]:
    findings = []
    for appointment in items:
        if ctx.exempt(appointment):
            continue
        where = appointment.place.municipality if appointment.place.kind in _IN_PERSON else ""
        drive = family_drive_minutes(case.municipality, where, ctx.settings)
        arrive = ctx.settings.family_leave_minute + drive
        leave = ctx.settings.family_home_minute - drive
        minute = ctx.minute(appointment)
        if minute < arrive or minute + appointment.minutes > leave:
            findings.append(
                _finding(
                    "family-travel",
                    appointment,
                    f"at {appointment.start:%H:%M}-{appointment.end:%H:%M}: the family can be "
                    f"there {_hm(arrive)}-{_hm(leave)} ({drive} min drive each way)",
                )
            )
    return findings


def _family_needs(ctx: _Context) -> list[Finding]:
    findings = []
    for appointment in ctx.plan.appointments:
        if not appointment.family_facing or ctx.exempt(appointment):
            continue
        case = ctx.cases[appointment.case_id]
        needs = case.needs
        if needs.blocks(appointment.day):
            findings.append(
                _finding(
                    "family-blocked", appointment, f"the family cannot come on {appointment.day}"
                )
            )
        expected = case.template.step(appointment.step_key).minutes
        if needs.needs_interpreter:
            expected += needs.interpreter_minutes
        if appointment.minutes != expected:
            findings.append(
                _finding("interpreter", appointment, f"{appointment.minutes} min, needs {expected}")
            )
        if appointment.day < ctx.frozen_end and not appointment.booked:
            findings.append(_finding("frozen", appointment, "new family time inside the notice"))
    return findings


def _trips(ctx: _Context) -> list[Finding]:
    by_day: dict[tuple[str, date], list[Appointment]] = defaultdict(list)
    for appointment in ctx.plan.appointments:
        for clinician_id in appointment.clinician_ids:
            by_day[(clinician_id, appointment.day)].append(appointment)
    findings = []
    for (clinician_id, day), items in by_day.items():
        clinician = ctx.team[clinician_id]
        away = {
            a.place.municipality
            for a in items
            if a.place.kind in _IN_PERSON and a.place.municipality != clinician.base
        }
        if not away or all(ctx.exempt(a) for a in items):
            continue
        if len(away) > 1:
            findings.append(_finding("trip", items[0], f"{clinician_id} in {len(away)} places"))
            continue
        destination = away.pop()
        one_way = _one_way(ctx, clinician.base, destination)
        start, end = clinician.hours_on(day)
        for appointment in items:
            minute, travel = ctx.minute(appointment), ctx.travel(appointment)
            at_base = appointment.place.kind in _IN_PERSON and (
                appointment.place.municipality == clinician.base
            )
            if at_base:
                findings.append(_finding("trip", appointment, f"{clinician_id} is away that day"))
            elif minute - travel < start + one_way or minute + appointment.minutes + travel > (
                end - one_way
            ):
                findings.append(
                    _finding("trip", appointment, f"{clinician_id} is driving ({one_way} min)")
                )
        if 2 * one_way > ctx.settings.max_round_trip_minutes and any(
            a.place.kind == "home_municipality" for a in items
        ):
            findings.append(_finding("trip", items[0], f"round trip to {destination} too long"))
    return findings


def _frozen(ctx: _Context) -> list[Finding]:
    planned = {(a.case_id, a.step_key): a for a in ctx.plan.appointments}
    frozen_end = ctx.frozen_end
    findings = []
    for case in ctx.cases.values():
        for booking in case.bookings:
            if not ctx.settings.start <= booking.day < frozen_end:
                continue
            appointment = planned.get((case.case_id, booking.step_key))
            if appointment is None:
                continue
            same = appointment.day == booking.day and (
                tuple(appointment.clinician_ids) == tuple(booking.clinician_ids)
            )
            if booking.start_minute is not None:
                same = same and ctx.minute(appointment) == booking.start_minute
            if not same:
                findings.append(_finding("frozen", appointment, "a frozen booking moved"))
    not_before = ctx.settings.not_before_minute
    for appointment in ctx.plan.appointments:
        if appointment.day < ctx.settings.start and not appointment.booked:
            findings.append(_finding("frozen", appointment, "planned before the start"))
        kept = appointment.booked and not appointment.moved
        first_day = appointment.day == ctx.settings.start
        if first_day and ctx.minute(appointment) < not_before and not kept:
            text = (
                f"starts at {appointment.start:%H:%M}, before the plan was made ({_hm(not_before)})"
            )
            findings.append(_finding("frozen", appointment, text))
    return findings


def _hm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
