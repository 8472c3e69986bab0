"""Use cases of the combined scheduler: plan and book, show, export, re-plan after changes.

The engine's open cases become the scheduler's `PlanningCase`s; a booked plan writes
appointments and gives each step its planned day, place and clinicians, so the worklist
and the family letter show the same plan. Kept bookings never move unless asked.

A plan is made in three moves so that nobody's work is lost: read a snapshot (one short
transaction), solve outside any transaction, then write only the cases whose bookings
changed, each checked against the version it had in the snapshot. A case that changed
while the solver ran is re-planned alone (greedy) against its new state.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel

from essence.domain.access import Role, User, require_case_access, require_role
from essence.domain.calendar import local_date, local_minute
from essence.domain.case import Case
from essence.domain.errors import ConcurrencyConflict, InvalidInput
from essence.domain.family import FamilyNeeds
from essence.domain.messages import N_
from essence.domain.pathway import PathwayTemplate
from essence.domain.states import CaseState, StepState
from essence.domain.team import Clinician
from essence.scheduling.booked import booked_plan
from essence.scheduling.calendar_export import clinician_ics, family_ics, family_letter
from essence.scheduling.clinic_planner import plan_clinic
from essence.scheduling.clinic_problem import (
    Appointment,
    Booking,
    CaseMetrics,
    Plan,
    PlanningCase,
    PlanSettings,
)
from essence.scheduling.progress import ProgressCallback, Watch
from essence.services.context import ServiceContext, audit_cases, run_use_case
from essence.services.ports import AppointmentStatus, UnitOfWork

PLANNABLE = (CaseState.CONSENTED, CaseState.ASSESSING, CaseState.FEEDBACK_GIVEN)
DETERMINISTIC_LNS_ROUNDS = 6
ALONE_ATTEMPTS = 3


class AppointmentView(BaseModel):
    """One booked or planned step."""

    case_id: str
    step_key: str
    title: str
    day: date
    start: str
    end: str
    clinicians: list[str]
    place: str
    family_facing: bool
    moved: bool
    status: str = "booked"


class PlanView(BaseModel):
    """A plan: how it was solved (with the bound and the objective by parts and the objective
    after each stage, `Plan.stage_objectives`), what it books, what is not scheduled yet,
    per-case figures."""

    method: str
    status: str
    objective: float | None
    best_bound: float | None
    gap: float | None
    wall_seconds: float
    greedy_objective: int
    booked: bool
    moved: int
    staff_km: int
    appointments: list[AppointmentView]
    not_scheduled_yet: list[dict[str, str]]
    cases: list[dict[str, object]]
    cases_written: int = 0
    replanned_alone: list[str] = []
    not_replanned: list[str] = []
    bound_parts: dict[str, int] | None = None
    objective_parts: dict[str, int] | None = None
    stage_objectives: dict[str, int] | None = None


def planning_case(
    case: Case,
    stored: Iterable[Appointment],
    today: date,
    needs: FamilyNeeds | None = None,
) -> PlanningCase:
    """The scheduler's view of an engine case: done steps, ready dates, bookings from today,
    and what the family needs (hard rules for the planner).

    Only booked appointments of open steps are kept; a cancelled step whose own
    prerequisites are not done yet hands them on to its successors (rule 1).
    """
    completed = {
        k: s.completed_on
        for k, s in case.steps.items()
        if s.completed_on and s.state is StepState.COMPLETED
    }
    for key, step in case.steps.items():
        if step.state is StepState.CANCELLED:
            completed[key] = local_date(case.closed_at) if case.closed_at else today
    ready_from = {
        k: max(s.ready_on or today, today)
        for k, s in case.steps.items()
        if s.state in (StepState.READY, StepState.ON_HOLD, StepState.IN_PROGRESS)
        and not case.definition(k).is_waiting
    }
    assigned = {
        k: tuple(s.assignees[p] for p in case.definition(k).professions)
        for k, s in case.steps.items()
        if s.state is StepState.IN_PROGRESS
        and all(p in s.assignees for p in case.definition(k).professions)
    }
    kept = [
        a
        for a in stored
        if a.day >= today
        and a.status == AppointmentStatus.BOOKED.value
        and case.steps[a.step_key].is_open
        and a.step_key not in assigned
    ]
    bookings = tuple(a.as_booking() for a in _still_possible(case, kept))
    return PlanningCase(
        case_id=case.id,
        referral_date=case.referral_date,
        municipality=case.municipality,
        template=_planning_template(case),
        team_travels=case.team_travels,
        completed=completed,
        ready_from=ready_from,
        assigned=assigned,
        bookings=bookings,
        first_name=case.child_name.split()[0] if case.child_name else "",
        needs=needs or FamilyNeeds(),
    )


def _still_possible(case: Case, kept: list[Appointment]) -> list[Appointment]:
    """The bookings that can still happen: each prerequisite is done, waits out its time,
    or is booked no later (and can happen itself). A booking left behind by a missed
    prerequisite (a no-show, a clinician off sick) is released, so the planner places it
    again after the prerequisite instead of keeping a frozen booking that breaks a rule."""
    by_step = {a.step_key: a for a in kept}
    possible: dict[str, bool] = {}

    def ready_by(key: str, day: date) -> bool:
        if case.satisfied(key):
            return True
        step, definition = case.steps[key], case.definition(key)
        if step.state is StepState.CANCELLED:
            return all(ready_by(p, day) for p in definition.requires)
        if definition.is_waiting:
            if step.state is StepState.READY and step.due_on is not None:
                return step.due_on <= day
            earlier = day - timedelta(days=definition.wait_days)
            return all(ready_by(p, earlier) for p in definition.requires)
        booking = by_step.get(key)
        return booking is not None and booking.day <= day and can_happen(key)

    def can_happen(key: str) -> bool:
        if key not in possible:
            day = by_step[key].day
            possible[key] = all(ready_by(p, day) for p in case.definition(key).requires)
        return possible[key]

    return [a for a in kept if can_happen(a.step_key)]


def _planning_template(case: Case) -> PathwayTemplate:
    """The case's template for the planner: a cancelled step that does not satisfy its
    successors yet passes its own prerequisites on to them, so nothing is planned ahead of
    work that has not happened."""
    template = case.template
    waiting = {
        k for k, s in case.steps.items() if s.state is StepState.CANCELLED and not case.satisfied(k)
    }
    if not waiting:
        return template

    def real(key: str) -> set[str]:
        if key not in waiting:
            return {key}
        return {r for p in template.step(key).requires for r in real(p)}

    steps = tuple(
        d.model_copy(update={"requires": tuple(sorted({r for p in d.requires for r in real(p)}))})
        if set(d.requires) & waiting
        else d
        for d in template.steps
    )
    return template.model_copy(update={"steps": steps})


@dataclass(frozen=True)
class PlanningSnapshot:
    """What the planner reads, in one short transaction.

    Attributes:
        inputs: The plannable cases as the scheduler sees them.
        versions: Each case's version when read (checked again before writing).
        team: The active clinicians.
    """

    inputs: list[PlanningCase]
    versions: dict[str, int]
    team: list[Clinician]


def read_snapshot(ctx: ServiceContext) -> PlanningSnapshot:
    """Read the open, consented cases, their booked appointments and the team (one short
    transaction); coordinators (and admins) only."""
    today = local_date(ctx.clock())

    def body(uow: UnitOfWork, user: User) -> PlanningSnapshot:
        require_role(user, "plan the schedule", Role.COORDINATOR)
        cases = [c for c in uow.cases.list(open_only=True) if c.state in PLANNABLE]
        stored = _by_case(uow.appointments.list(case_ids=[c.id for c in cases]))
        needs = uow.family_needs.for_cases([c.id for c in cases])
        return PlanningSnapshot(
            inputs=[planning_case(c, stored.get(c.id, []), today, needs.get(c.id)) for c in cases],
            versions={c.id: c.version for c in cases},
            team=uow.clinicians.list(),
        )

    return run_use_case(ctx, "schedule.plan", body)


#: Seconds an interactive `essence schedule plan` searches by default.
INTERACTIVE_BUDGET_S = 10.0
#: Seconds the nightly re-plan (daily sweep) searches.
NIGHTLY_BUDGET_S = 60.0


def plan_schedule(
    ctx: ServiceContext,
    *,
    horizon_weeks: int = 10,
    budget_s: float = INTERACTIVE_BUDGET_S,
    move_bookings: bool = False,
    workers: int = 2,
    seed: int = 0,
    use_cpsat: bool = True,
    book: bool = True,
    deterministic: bool = False,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    grid_minutes: int = 15,
) -> PlanView:
    """Plan every open, consented case over the horizon and (by default) book the plan.

    The solver runs outside any transaction on a snapshot; then only the cases whose
    bookings changed are written, each with its version check. A case changed by someone
    while the solver ran is re-planned alone (greedy) on its new state. With
    `deterministic` (and one worker) the same data gives the same plan on any machine:
    CP-SAT budgets count in deterministic time and LNS runs a fixed number of rounds.
    `progress` receives live figures (elapsed, best objective, bound); setting `stop`
    ends the search and books the best plan found so far. The independent checker runs
    on the plan before anything is written (the planner's gate, `clinic_planner.gate`,
    takes out what it finds at fault): a plan with findings is never booked.

    Raises:
        InvalidInput: a horizon or budget that is not positive.
        PermissionDenied: unless a coordinator (or admin/system) acts.
        PlanCheckFailed: the gate could not take the findings out (nothing is booked).
    """
    now = ctx.clock()
    settings = PlanSettings(
        start=local_date(now),
        not_before_minute=local_minute(now),
        horizon_weeks=horizon_weeks,
        budget_s=budget_s,
        workers=workers,
        seed=seed,
        move_bookings=move_bookings,
        deterministic=deterministic,
        lns_rounds=DETERMINISTIC_LNS_ROUNDS if deterministic else 0,
        grid_minutes=grid_minutes,
    )
    snapshot = read_snapshot(ctx)
    watch = Watch(progress, stop)
    plan = plan_clinic(snapshot.inputs, snapshot.team, settings, use_cpsat=use_cpsat, watch=watch)
    if not book:
        return plan_view(plan, booked=False)
    written, stale = write_plan(ctx, snapshot, plan)
    alone = {case_id: replan_case_alone(ctx, case_id, settings) for case_id in stale}
    view = plan_view(plan, booked=True)
    _show_as_written(view, alone)
    view.cases_written = len(written) + len(view.replanned_alone)
    return view


def _show_as_written(view: PlanView, alone: dict[str, Plan | None]) -> None:
    """Put in the view what was written for the cases that changed while the solver ran:
    their part of the re-plan alone (appointments, not scheduled, figures), or nothing
    when they were not re-planned (no longer plannable, or they kept changing), so the
    view never shows a booking the database does not hold."""
    if not alone:
        return
    view.appointments = [a for a in view.appointments if a.case_id not in alone]
    view.not_scheduled_yet = [u for u in view.not_scheduled_yet if u["case_id"] not in alone]
    view.cases = [c for c in view.cases if c["case_id"] not in alone]
    for case_id, plan in sorted(alone.items()):
        if plan is None:
            view.not_replanned.append(case_id)
            continue
        view.replanned_alone.append(case_id)
        part = plan_view(plan, booked=True)
        view.appointments += [a for a in part.appointments if a.case_id == case_id]
        view.not_scheduled_yet += [u for u in part.not_scheduled_yet if u["case_id"] == case_id]
        view.cases += [c for c in part.cases if c["case_id"] == case_id]
    view.appointments.sort(key=lambda a: (a.day, a.start, a.case_id, a.step_key))


def write_plan(
    ctx: ServiceContext,
    snapshot: PlanningSnapshot,
    plan: Plan,
    only: set[str] | None = None,
) -> tuple[list[str], list[str]]:
    """Book `plan` for the snapshot's cases (or `only` some), in one transaction.

    A case whose version differs from the snapshot is left alone and reported as stale;
    a case whose bookings and planned days are unchanged is not written at all, and a case
    whose plan is exactly its snapshot's bookings is not even loaded (nothing to book),
    only its version compared: a change made meanwhile (a step started or completed, a
    withdrawal) released its own bookings in its own transaction, but the plan shown
    for it would be stale, so it is reported as stale too.

    Returns:
        (ids of the cases written, ids of the stale cases).
    """

    def body(uow: UnitOfWork, user: User) -> tuple[list[str], list[str]]:
        require_role(user, "book the schedule", Role.COORDINATOR)
        planned = _by_case(plan.appointments)
        kept = _kept_as_booked(snapshot, planned)
        wanted_ids = [i for i in snapshot.versions if (only is None or i in only) and i not in kept]
        kept_now = uow.cases.versions([i for i in kept if only is None or i in only])
        stale = {i for i, version in kept_now.items() if version != snapshot.versions[i]}
        loaded = uow.cases.list(ids=wanted_ids)
        stale |= {
            c.id for c in loaded if c.version != snapshot.versions[c.id] or c.state not in PLANNABLE
        }
        # Cases this call does not write keep their real bookings, which the plan may
        # have moved: the cases written must fit around them.
        outside = set() if only is None else set(snapshot.versions) - only
        stale |= _clashing_with_stale(uow, snapshot, plan, stale | outside)
        written: list[str] = []
        now = ctx.clock()
        for case in loaded:
            if case.id in stale:
                continue
            fresh = [a for a in planned.get(case.id, []) if case.steps[a.step_key].is_open]
            _apply_plan(case, fresh)
            changed = uow.appointments.sync(case.id, fresh, now)
            uow.cases.save(case)
            if changed or case.version != snapshot.versions[case.id]:
                written.append(case.id)
        audit_cases(ctx, uow, user, "schedule.book", written)
        return written, sorted((stale - outside) & set(snapshot.versions))

    return run_use_case(ctx, "schedule.book", body)


def _clashing_with_stale(
    uow: UnitOfWork, snapshot: PlanningSnapshot, plan: Plan, stale: set[str]
) -> set[str]:
    """Cases whose planned appointments would break a clinician's day next to what the
    cases not written (`stale`: changed meanwhile, or outside this write) really hold
    booked (the plan may have moved such a booking to make room, and that move is not
    written): they are left alone too and re-planned on their own. Repeats until no case
    is added (a case left alone keeps its own bookings, which the others must then fit
    around)."""
    from essence.scheduling.clinic_check import fits_clinician_day

    templates = {c.case_id: c.template for c in snapshot.inputs}
    team = {c.id: c for c in snapshot.team}

    def travel(appointment: Appointment) -> int:
        template = templates.get(appointment.case_id)
        return template.step(appointment.step_key).travel_minutes if template else 0

    clashing: set[str] = set()
    while True:
        left_alone = stale | clashing
        held = uow.appointments.list(case_ids=sorted(left_alone))
        if not held:
            return clashing
        days: dict[tuple[str, date], list[Appointment]] = {}
        for appointment in held + [a for a in plan.appointments if a.case_id not in left_alone]:
            for clinician_id in appointment.clinician_ids:
                days.setdefault((clinician_id, appointment.day), []).append(appointment)
        touched = {(c, a.day) for a in held for c in a.clinician_ids}
        added = set()
        for key in sorted(touched):
            clinician = team.get(key[0])
            items = days[key]
            if clinician is None or fits_clinician_day(clinician, key[1], items, travel):
                continue
            added |= {a.case_id for a in items if a.case_id not in left_alone}
        if not added:
            return clashing
        clashing |= added


def replan_case_alone(ctx: ServiceContext, case_id: str, settings: PlanSettings) -> Plan | None:
    """Re-plan one case on its current state around everyone's bookings (greedy), e.g.
    after it changed while a bigger plan was being solved.

    Returns:
        The plan whose part for this case was written (or found already booked); None
        when the case is no longer plannable or kept changing.
    """
    for _ in range(ALONE_ATTEMPTS):
        snapshot = read_snapshot(ctx)
        if case_id not in snapshot.versions:
            return None
        plan = plan_clinic(snapshot.inputs, snapshot.team, settings, use_cpsat=False)
        try:
            _written, stale = write_plan(ctx, snapshot, plan, only={case_id})
        except ConcurrencyConflict:
            continue
        if not stale:
            return plan
    return None


def _apply_plan(case: Case, fresh: list[Appointment]) -> None:
    """Give each open step its planned day, place and clinicians from the plan."""
    by_step = {a.step_key: a for a in fresh}
    for key, step in case.steps.items():
        if not step.is_open:
            continue
        appointment = by_step.get(key)
        step.planned_on = appointment.day if appointment else None
        step.planned_place = appointment.place.describe() if appointment else ""
        if appointment and appointment.clinician_ids:
            professions = case.definition(key).professions
            for profession, clinician_id in zip(
                professions, appointment.clinician_ids, strict=True
            ):
                case.assign(key, profession, clinician_id)


def plan_view(plan: Plan, *, booked: bool) -> PlanView:
    """The plan as plain data for the CLI and the API."""
    report = plan.report
    data = plan.to_dict()
    return PlanView(
        method=plan.method,
        status=report.status,
        objective=report.objective,
        best_bound=report.best_bound,
        gap=report.gap,
        wall_seconds=round(report.wall_seconds, 3),
        greedy_objective=plan.greedy_objective,
        booked=booked,
        moved=plan.moved_count,
        staff_km=plan.staff_km,
        appointments=[appointment_view(a) for a in plan.appointments],
        not_scheduled_yet=data["not_scheduled_yet"],  # type: ignore[arg-type]
        cases=[{"case_id": k, **v} for k, v in data["cases"].items()],  # type: ignore[union-attr]
        bound_parts=plan.bound_parts.to_dict() if plan.bound_parts else None,  # type: ignore[attr-defined]
        objective_parts=plan.objective_parts,
        stage_objectives=plan.stage_objectives,
    )


def appointment_view(appointment: Appointment) -> AppointmentView:
    """One appointment for display."""
    return AppointmentView(
        case_id=appointment.case_id,
        step_key=appointment.step_key,
        title=appointment.title,
        day=appointment.day,
        start=appointment.start.strftime("%H:%M"),
        end=appointment.end.strftime("%H:%M"),
        clinicians=list(appointment.clinician_ids),
        place=appointment.place.describe(),
        family_facing=appointment.family_facing,
        moved=appointment.moved,
        status=appointment.status,
    )


def parse_week(text: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week such as ``2027-W05``."""
    try:
        year, week = text.upper().split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise InvalidInput("week", text, N_("expected an ISO week like 2027-W05")) from None
    return monday, monday + timedelta(days=6)


def show_schedule(
    ctx: ServiceContext,
    *,
    case_id: str | None = None,
    clinician_id: str | None = None,
    week: str | None = None,
    history: bool = False,
) -> list[AppointmentView]:
    """Booked appointments of one case, one clinician or one ISO week (with `history`,
    also attended, cancelled and missed ones, each with its status).

    Clinicians see their own calendar and the cases they take part in; coordinators all.
    """
    first, last = parse_week(week) if week else (None, None)
    if not (case_id or clinician_id or week):
        raise InvalidInput("schedule show", "", N_("give --case, --clinician or --week"))

    def body(uow: UnitOfWork, user: User) -> list[AppointmentView]:
        ids = None
        if case_id:
            case = uow.cases.get(case_id)
            require_case_access(user, case, f"see the schedule of case {case_id}")
            ids = [case_id]
        if clinician_id:
            uow.clinicians.get(clinician_id)
            if user.clinician_id != clinician_id:
                require_role(user, f"see the calendar of {clinician_id}", Role.COORDINATOR)
        elif not case_id:
            require_role(user, "see the week's schedule", Role.COORDINATOR)
        statuses = None if history else (AppointmentStatus.BOOKED.value,)
        found = uow.appointments.list(
            case_ids=ids, first_day=first, last_day=last, statuses=statuses
        )
        if clinician_id:
            found = [a for a in found if clinician_id in a.clinician_ids]
        audit_cases(ctx, uow, user, "schedule.show", sorted({a.case_id for a in found}))
        return [appointment_view(a) for a in found]

    return run_use_case(ctx, "schedule.show", body, case_id=case_id)


def clinician_calendar(ctx: ServiceContext, clinician_id: str) -> str:
    """A clinician's appointments as iCalendar text (case ids only): booked and attended
    ones, and cancelled ones as STATUS:CANCELLED with a higher SEQUENCE so calendar
    clients remove them."""

    def body(uow: UnitOfWork, user: User) -> str:
        team = {c.id: c for c in uow.clinicians.list(active_only=False)}
        uow.clinicians.get(clinician_id)
        if user.clinician_id != clinician_id:
            require_role(user, f"export the calendar of {clinician_id}", Role.COORDINATOR)
        shown = [s.value for s in AppointmentStatus if s is not AppointmentStatus.NO_SHOW]
        found = [
            a for a in uow.appointments.list(statuses=shown) if clinician_id in a.clinician_ids
        ]
        audit_cases(ctx, uow, user, "schedule.export", sorted({a.case_id for a in found}))
        plan = booked_plan(found, {}, local_date(ctx.clock()))
        return clinician_ics(plan, clinician_id, team, stamp=ctx.clock())

    return run_use_case(ctx, "schedule.export", body)


def family_documents(ctx: ServiceContext, case_id: str) -> tuple[str, str]:
    """The family letter (plain text: the booked appointments from today) and the family's
    appointments as iCalendar (booked ones, and cancelled ones as STATUS:CANCELLED)."""

    def body(uow: UnitOfWork, user: User) -> tuple[str, str]:
        require_role(user, "write the family letter", Role.COORDINATOR)
        case = uow.cases.get(case_id)
        today = local_date(ctx.clock())
        team = {c.id: c for c in uow.clinicians.list(active_only=False)}
        found = [a for a in uow.appointments.list(case_ids=[case_id]) if a.day >= today]
        feedback = next((a.day for a in found if a.step_key == case.template.feedback_key), None)
        metrics = CaseMetrics(case_id, case.referral_date, feedback, None, 0, 0)
        plan = booked_plan(found, {case_id: metrics}, today)
        calendar_statuses = [AppointmentStatus.BOOKED.value, AppointmentStatus.CANCELLED.value]
        calendar = booked_plan(
            uow.appointments.list(case_ids=[case_id], statuses=calendar_statuses),
            {case_id: metrics},
            today,
        )
        first_name = case.child_name.split()[0] if case.child_name else ""
        audit_cases(ctx, uow, user, "schedule.letter", [case_id])
        needs = uow.family_needs.get(case_id)
        letter = family_letter(plan, case_id, team, first_name, needs.taken_into_account())
        return letter, family_ics(calendar, case_id, team, stamp=ctx.clock())

    return run_use_case(ctx, "schedule.letter", body, case_id=case_id)


def _kept_as_booked(snapshot: PlanningSnapshot, planned: dict[str, list[Appointment]]) -> set[str]:
    """Ids of the cases whose planned appointments are exactly their bookings in the snapshot
    (same steps, days, clock times, places and clinicians; at least one)."""
    kept = set()
    for case in snapshot.inputs:
        mine = planned.get(case.case_id, [])
        booked = {b.step_key: b for b in case.bookings}
        if mine and len(mine) == len(booked) and all(_as_booked(a, booked) for a in mine):
            kept.add(case.case_id)
    return kept


def _as_booked(appointment: Appointment, booked: dict[str, Booking]) -> bool:
    return booked.get(appointment.step_key) == appointment.as_booking()


def _by_case(appointments: Iterable[Appointment]) -> dict[str, list[Appointment]]:
    grouped: dict[str, list[Appointment]] = {}
    for appointment in appointments:
        grouped.setdefault(appointment.case_id, []).append(appointment)
    return grouped
