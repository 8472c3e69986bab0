"""The clinic problem compiled for the solvers: one task per step to place, day indexes, capacities.

Resolves places and travel, waiting steps into day lags, bookings into fixed or movable tasks,
and steps that cannot be placed at all into `Unscheduled` entries with a reason.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from essence.domain.calendar import add_working_days
from essence.domain.errors import InvalidInput, NotFound
from essence.domain.geography import road_km
from essence.domain.pathway import StepDefinition
from essence.domain.professions import Attendee, LocationKind
from essence.domain.team import Clinician, working_span
from essence.scheduling.clinic_problem import (
    Booking,
    Place,
    PlanningCase,
    PlanSettings,
    Unscheduled,
)

NEVER = -(10**6)

#: A step does not share the day with a prerequisite of this many clinicians (or more)
#: in the day-level search when it needs a drive (see `planning_lag`).
SAME_DAY_MAX_CLINICIANS = 3
#: In the search a step of this many clinicians or more, attended at the base or by video,
#: costs extra on a day one of them drives away (see `Instance.is_crowded`).
TRIP_DAY_MAX_CLINICIANS = 3


@dataclass
class Task:
    """One step to place on a day with one clinician per profession.

    Attributes:
        index: Position in `Instance.tasks`.
        case_id: The case.
        step: The step definition.
        staff_minutes: Clinician minutes per profession (incl. local travel both ways).
        family_minutes: Minutes of the family's day (0 when no child/guardian attends).
        place: Where it happens.
        destination: Municipality staff must be in (None for internal and video steps).
        candidates: Clinician ids per profession slot.
        release: Earliest day index.
        preds: (task index, lag in days) pairs: this day >= that day + lag.
        booking: The booking of this step, if any.
        fixed: True when the booking must stay (frozen, or kept and still valid).
        frozen: True inside the frozen window.
        minutes: Length of the appointment, minutes (the step's, plus the interpreter's
            extra minutes on family-facing steps).
        blocked_days: Day indexes the family cannot come (family-facing steps only).
        window: (earliest start, latest end) of the family's day at this place, minutes
            after midnight: travel from home after leaving, and home again in time.
    """

    index: int
    case_id: str
    step: StepDefinition
    staff_minutes: int
    family_minutes: int
    place: Place
    destination: str | None
    candidates: tuple[tuple[str, ...], ...]
    release: int
    preds: list[tuple[int, int]] = field(default_factory=list)
    booking: Booking | None = None
    fixed: bool = False
    frozen: bool = False
    minutes: int = 0
    blocked_days: frozenset[int] = frozenset()
    window: tuple[int, int] = (0, 24 * 60)

    @property
    def key(self) -> str:
        """The step key."""
        return self.step.key

    @property
    def is_feedback(self) -> bool:
        """True for the feedback meeting (its day ends the lead time)."""
        return self.step.milestone == "feedback"


class DayCosts(NamedTuple):
    """What one task adds to one clinician's day (`Instance.day_costs`).

    Attributes:
        slot_minutes: Minutes on the clock grid (`Instance.slot_minutes`).
        trip: The municipality the clinician drives to for it, or None.
        trip_block_minutes: Minutes that trip takes of the day (0 without one).
        at_base_in_person: Held in person at the clinician's base.
        crowded: A crowded step for the clinician (`Instance.is_crowded`).
    """

    slot_minutes: int
    trip: str | None
    trip_block_minutes: int
    at_base_in_person: bool
    crowded: bool


@dataclass
class Instance:
    """Everything the greedy, CP-SAT and clock-time stages need, in day indexes.

    Attributes:
        settings: The plan settings.
        cases: Cases by id.
        clinicians: Active clinicians by id.
        days: Calendar day of each index (day 0 = settings.start).
        horizon: Days a new appointment may use (indexes 0..horizon-1).
        frozen_end: First day index outside the frozen window.
        capacity: Clinical minutes per clinician per day index.
        span: Working minutes per clinician per day index (hours minus lunch; 0 when the
            clinician does not work that day).
        family_cap: Most family minutes on one day, per case (see `family_limit`).
        tasks: The tasks, each case's in topological order.
        unscheduled: Steps that cannot be placed whatever the solver does.
        done_day: Day index of completed (or past) steps, by (case, step).
        avoid: Day indexes the day-level search keeps a task off, by task index (the
            clock-time stage found no time for it there; see `clinic_planner`).
    """

    settings: PlanSettings
    cases: dict[str, PlanningCase]
    clinicians: dict[str, Clinician]
    days: list[date]
    horizon: int
    frozen_end: int
    capacity: dict[str, list[int]]
    span: dict[str, list[int]] = field(default_factory=dict)
    family_cap: dict[str, int] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)
    unscheduled: list[Unscheduled] = field(default_factory=list)
    done_day: dict[tuple[str, str], int] = field(default_factory=dict)
    avoid: dict[int, set[int]] = field(default_factory=dict)
    _fixed_copies: dict[int, tuple[Task, Task]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _day_costs: dict[tuple[int, str], DayCosts] = field(
        default_factory=dict, repr=False, compare=False
    )

    def fixed_copy(self, task: Task) -> Task:
        """The task as a fixed constant without prerequisites (an LNS round fixes every
        case it does not re-solve), made once per task: rounds ask for hundreds a time."""
        cached = self._fixed_copies.get(task.index)
        if cached is None or cached[0] is not task:
            cached = (task, dataclasses.replace(task, fixed=True, preds=[]))
            self._fixed_copies[task.index] = cached
        return cached[1]

    def day_costs(self, task: Task, clinician_id: str) -> DayCosts:
        """What the task adds to the clinician's day (`DayCosts`), worked out once per task
        and clinician: day loads are built thousands of times a second in the search."""
        key = (task.index, clinician_id)
        costs = self._day_costs.get(key)
        if costs is None:
            trip = task.destination or "" if self.needs_trip(task, clinician_id) else None
            costs = DayCosts(
                slot_minutes=self.slot_minutes(task),
                trip=trip,
                trip_block_minutes=0
                if trip is None
                else self.trip_block_minutes(clinician_id, trip),
                at_base_in_person=self.at_base_in_person(task, clinician_id),
                crowded=self.is_crowded(task, clinician_id),
            )
            self._day_costs[key] = costs
        return costs

    def index_of(self, day: date) -> int:
        """Day index of a calendar day (may be negative or beyond the horizon)."""
        return (day - self.settings.start).days

    def hours(self, clinician_id: str, day: int) -> tuple[int, int]:
        """(start, end) of the clinician's working day, minutes after midnight; on day 0
        it starts no earlier than `settings.not_before_minute` (the plan is made then)."""
        start, end = self.clinicians[clinician_id].hours_on(self.days[day])
        if day == 0:
            start = min(end, max(start, self.settings.not_before_minute))
        return start, end

    def lunch(self, clinician_id: str, day: int) -> tuple[int, int, int] | None:
        """(earliest start, latest end, minutes) of the clinician's lunch that day, if any
        (on day 0 none when it no longer fits after `settings.not_before_minute`)."""
        lunch = self.clinicians[clinician_id].lunch_on(self.days[day])
        if lunch is None or day != 0:
            return lunch
        low, high, minutes = lunch
        low = max(low, self.settings.not_before_minute)
        return (low, high, minutes) if high - low >= minutes else None

    def grid_up(self, minute: int) -> int:
        """The first grid time at or after `minute`."""
        grid = self.settings.grid_minutes
        return -(-minute // grid) * grid

    def slot_minutes(self, task: Task) -> int:
        """Minutes a task takes of a clinician's day on the clock grid (incl. its travel)."""
        grid = self.settings.grid_minutes
        return -(-(task.minutes + 2 * task.step.travel_minutes) // grid) * grid

    def family_limit(self, case_id: str) -> int:
        """Most family minutes on one day for a case: the 4-hour cap, narrowed by the
        shortest travel window of its family steps (same for every day, so the greedy
        and the CP-SAT model agree)."""
        return self.family_cap.get(case_id, self.settings.family_max_minutes)

    def one_way_minutes(self, clinician_id: str, destination: str) -> int:
        """Driving minutes from the clinician's base to a municipality (half a round trip)."""
        return self.trip_minutes(clinician_id, destination) // 2

    def trip_block_minutes(self, clinician_id: str, destination: str) -> int:
        """Minutes a trip takes of the working day on the clock grid: each drive rounded up
        to the grid (the first appointment after the drive out starts on the grid)."""
        return 2 * self.grid_up(self.one_way_minutes(clinician_id, destination))

    def trip_minutes(self, clinician_id: str, destination: str) -> int:
        """Round-trip driving minutes from the clinician's base (0 at the base)."""
        km = self.trip_km(clinician_id, destination)
        return round(km * self.settings.travel_minutes_per_km)

    def trip_km(self, clinician_id: str, destination: str) -> int:
        """Round-trip km from the clinician's base to a municipality."""
        return 2 * road_km(self.clinicians[clinician_id].base, destination)

    def needs_trip(self, task: Task, clinician_id: str) -> bool:
        """True when the clinician must drive away from base for the task."""
        base = self.clinicians[clinician_id].base
        return task.destination is not None and task.destination != base

    def is_crowded(self, task: Task, clinician_id: str) -> bool:
        """True when the task is a step of `TRIP_DAY_MAX_CLINICIANS` or more clinicians that
        the clinician attends without driving: on the clinician's trip days it costs the
        CP-SAT search `clinic_objective.CROWDED_POINTS`. The clock-time stage seldom finds
        a common time for such a step (e.g. a team conference of four) in a day that the
        drives there and back shorten; the step, and often a feedback meeting away, was
        then moved weeks later. The reported objective, the greedy (whose every step must
        find a day) and the checker do not count it."""
        return len(task.step.professions) >= TRIP_DAY_MAX_CLINICIANS and not self.needs_trip(
            task, clinician_id
        )

    def at_base_in_person(self, task: Task, clinician_id: str) -> bool:
        """True when the task is held in person at the clinician's base."""
        return task.destination is not None and task.destination == (
            self.clinicians[clinician_id].base
        )


def planning_lag(instance: Instance, task: Task, pred: int, lag: int) -> int:
    """Days the day-level stages (greedy, CP-SAT) keep between a prerequisite and a step.

    The waiting lag, and at least one day after a joint step of `SAME_DAY_MAX_CLINICIANS`
    or more clinicians when the step is held in person away from some candidate's base
    (the clock-time stage seldom finds a common time for, e.g., the team conference early
    enough that a feedback meeting in Skellefteå and the drive home still fit after it;
    such a step would be moved weeks later). Only the plan's search uses this: the checker
    and the lower bound keep the real lags.
    """
    if lag > 0 or len(instance.tasks[pred].step.professions) < SAME_DAY_MAX_CLINICIANS:
        return lag
    away = any(instance.needs_trip(task, c) for slot in task.candidates for c in slot)
    return 1 if away else lag


def build_instance(
    cases: Sequence[PlanningCase], clinicians: Sequence[Clinician], settings: PlanSettings
) -> Instance:
    """Compile cases, team and settings into an `Instance`.

    Raises:
        InvalidInput: duplicate ids or an assigned clinician of the wrong profession.
        NotFound: a booking or assignment naming an unknown clinician.
    """
    team = _check_team(clinicians)
    by_case = _check_cases(cases)
    last = max([settings.horizon_days - 1] + [_last_booking(c, settings) for c in cases])
    days = [settings.start + timedelta(days=i) for i in range(last + 1)]
    frozen_end_day = add_working_days(settings.start, settings.frozen_working_days)
    if settings.frozen_working_days == 0:
        frozen_end_day = settings.start
    instance = Instance(
        settings=settings,
        cases=by_case,
        clinicians=team,
        days=days,
        horizon=settings.horizon_days,
        frozen_end=(frozen_end_day - settings.start).days,
        capacity={cid: [c.minutes_on(d) for d in days] for cid, c in team.items()},
        span={cid: [_span(c, d) for d in days] for cid, c in team.items()},
    )
    if settings.not_before_minute:
        _shorten_first_day(instance)
    for case in sorted(by_case.values(), key=lambda c: (c.referral_date, c.case_id)):
        _add_case(instance, case)
    _release_successors_of_movable(instance)
    for task in instance.tasks:
        if task.family_minutes:
            earliest, latest = task.window
            room = latest - instance.grid_up(earliest)
            cap = instance.family_cap.get(task.case_id, settings.family_max_minutes)
            instance.family_cap[task.case_id] = max(0, min(cap, room))
    return instance


def _shorten_first_day(instance: Instance) -> None:
    """Day 0's span and minutes: what is left of each working day after
    `settings.not_before_minute` (a plan made at 09:35 books nothing earlier today)."""
    for clinician_id in instance.clinicians:
        if instance.span[clinician_id][0] <= 0:
            continue
        start, end = instance.hours(clinician_id, 0)
        left = working_span(instance.grid_up(start), end, instance.lunch(clinician_id, 0))
        instance.span[clinician_id][0] = min(instance.span[clinician_id][0], left)
        instance.capacity[clinician_id][0] = min(instance.capacity[clinician_id][0], left)


def _span(clinician: Clinician, day: date) -> int:
    if clinician.minutes_on(day) <= 0:
        return 0
    return clinician.roster.span_minutes(day.weekday())


def _check_team(clinicians: Sequence[Clinician]) -> dict[str, Clinician]:
    team: dict[str, Clinician] = {}
    for clinician in clinicians:
        if clinician.id in team:
            raise InvalidInput("clinician", clinician.id, "id is used twice")
        team[clinician.id] = clinician
    return {cid: c for cid, c in team.items() if c.active}


def _check_cases(cases: Sequence[PlanningCase]) -> dict[str, PlanningCase]:
    by_case: dict[str, PlanningCase] = {}
    for case in cases:
        if case.case_id in by_case:
            raise InvalidInput("case", case.case_id, "id is used twice")
        by_case[case.case_id] = case
    return by_case


def _last_booking(case: PlanningCase, settings: PlanSettings) -> int:
    return max([0] + [(b.day - settings.start).days for b in case.bookings])


# --- places ------------------------------------------------------------------------------


def resolve_place(
    step: StepDefinition, case: PlanningCase, settings: PlanSettings
) -> tuple[Place, str | None]:
    """Where a step happens for this case, and the municipality staff must be in.

    Staff-only steps are "internal" (at base or by video); preschool steps at the child's
    preschool; family steps by video when allowed and preferred, in the home municipality
    when the team travels and the round trip is short enough, else at the nearest site.
    """
    family = step.family_facing or step.location == LocationKind.HOME_MUNICIPALITY
    if step.location == LocationKind.PRESCHOOL or (
        not family and Attendee.PRESCHOOL in step.attendees
    ):
        if step.video_allowed and _beyond_round_trip(
            settings.sites[0], case.municipality, settings
        ):
            return Place("video", ""), None
        return Place("preschool", case.municipality), case.municipality
    if not family:
        return Place("internal", ""), None
    if step.video_allowed and case.wants_video:
        return Place("video", ""), None
    home = case.municipality
    preferred = case.needs.preferred_site
    if preferred and preferred in settings.sites:
        return Place("clinic", preferred), preferred
    if home in settings.sites:
        return Place("clinic", home), home
    wants_home = case.team_travels or step.location == LocationKind.HOME_MUNICIPALITY
    if wants_home and not _beyond_round_trip(settings.sites[0], home, settings):
        return Place("home_municipality", home), home
    site = min(settings.sites, key=lambda s: (road_km(home, s), s))
    return Place("clinic", site), site


def _beyond_round_trip(base: str, home: str, settings: PlanSettings) -> bool:
    """True when driving base → home → base takes longer than one trip may."""
    minutes = 2 * road_km(base, home) * settings.travel_minutes_per_km
    return minutes > settings.max_round_trip_minutes


# --- tasks --------------------------------------------------------------------------------


@dataclass
class _Finish:
    """When a step is done: a constant day, plus lags after tasks; or blocked."""

    const: int = NEVER
    terms: list[tuple[int, int]] = field(default_factory=list)
    blocked_by: str = ""


def _add_case(instance: Instance, case: PlanningCase) -> None:
    template = case.template
    bookings = {b.step_key: b for b in case.bookings}
    finish: dict[str, _Finish] = {}
    for key in template.topological_order():
        step = template.step(key)
        finish[key] = _finish_of(instance, case, step, finish, bookings.get(key))


def _finish_of(
    instance: Instance,
    case: PlanningCase,
    step: StepDefinition,
    finish: dict[str, _Finish],
    booking: Booking | None,
) -> _Finish:
    if step.key in case.completed:
        day = instance.index_of(case.completed[step.key])
        instance.done_day[(case.case_id, step.key)] = day
        return _Finish(const=day)
    if booking is not None and booking.day < instance.settings.start:
        day = instance.index_of(booking.day)
        instance.done_day[(case.case_id, step.key)] = day
        return _Finish(const=day)
    merged = _merge_requirements(step, finish)
    ready = case.ready_from.get(step.key)
    if ready is not None:
        merged.const = max(merged.const, instance.index_of(ready))
    if step.is_waiting:
        if not step.requires:
            merged.const = max(merged.const, 0)
        merged.const = merged.const + step.wait_days if merged.const > NEVER else NEVER
        merged.terms = [(t, lag + step.wait_days) for t, lag in merged.terms]
        return merged
    if merged.blocked_by:
        _unschedule(instance, case, step, f"waits for {merged.blocked_by} (not scheduled yet)")
        return _Finish(blocked_by=step.key)
    reason = _missing_profession(instance, step)
    if reason:
        _unschedule(instance, case, step, reason)
        return _Finish(blocked_by=step.key)
    task = _make_task(instance, case, step, merged, booking)
    instance.tasks.append(task)
    return _Finish(terms=[(task.index, 0)])


def _merge_requirements(step: StepDefinition, finish: dict[str, _Finish]) -> _Finish:
    merged = _Finish()
    for required in step.requires:
        done = finish[required]
        if done.blocked_by:
            merged.blocked_by = merged.blocked_by or done.blocked_by
        merged.const = max(merged.const, done.const)
        merged.terms.extend(done.terms)
    return merged


def _missing_profession(instance: Instance, step: StepDefinition) -> str:
    for profession in step.professions:
        if not any(c.profession == profession for c in instance.clinicians.values()):
            return f"no active clinician with profession {profession.value} in the team"
    return ""


def _unschedule(instance: Instance, case: PlanningCase, step: StepDefinition, why: str) -> None:
    instance.unscheduled.append(Unscheduled(case.case_id, step.key, why))


def _make_task(
    instance: Instance,
    case: PlanningCase,
    step: StepDefinition,
    merged: _Finish,
    booking: Booking | None,
) -> Task:
    settings = instance.settings
    place, destination = resolve_place(step, case, settings)
    if booking is not None and booking.place is not None:
        place = booking.place
        destination = place.municipality if place.kind not in ("video", "internal") else None
    release = max(0, merged.const)
    if step.family_facing:
        release = max(release, instance.frozen_end)
    minutes = step.minutes
    if step.family_facing and case.needs.needs_interpreter:
        minutes += case.needs.interpreter_minutes
    task = Task(
        index=len(instance.tasks),
        case_id=case.case_id,
        step=step,
        staff_minutes=minutes + 2 * step.travel_minutes,
        family_minutes=minutes if step.family_facing else 0,
        place=place,
        destination=destination,
        candidates=_candidates(instance, case, step),
        release=release,
        preds=list(merged.terms),
        booking=booking,
        minutes=minutes,
        blocked_days=_blocked_days(instance, case) if step.family_facing else frozenset(),
        window=_family_window(case, place, settings) if step.family_facing else (0, 24 * 60),
    )
    if booking is not None:
        _classify_booking(instance, task, booking)
    return task


def _blocked_days(instance: Instance, case: PlanningCase) -> frozenset[int]:
    if case.needs.is_empty:
        return frozenset()
    return frozenset(i for i, day in enumerate(instance.days) if case.needs.blocks(day))


def _family_window(case: PlanningCase, place: Place, settings: PlanSettings) -> tuple[int, int]:
    """The family leaves home after `family_leave_minute` and is home by
    `family_home_minute`: the drive each way narrows the day at the place."""
    if place.kind == "video":
        return settings.family_leave_minute, settings.family_home_minute
    drive = family_drive_minutes(case.municipality, place.municipality, settings)
    return settings.family_leave_minute + drive, settings.family_home_minute - drive


def family_drive_minutes(home: str, place: str, settings: PlanSettings) -> int:
    """One-way driving minutes of a family from its municipality to a place."""
    if not place:
        return 0
    return math.ceil(road_km(home, place) * settings.travel_minutes_per_km)


def _candidates(
    instance: Instance, case: PlanningCase, step: StepDefinition
) -> tuple[tuple[str, ...], ...]:
    fixed = case.assigned.get(step.key)
    if fixed is not None and len(fixed) != len(step.professions):
        raise InvalidInput(
            f"case {case.case_id}: assigned {step.key}",
            ",".join(fixed),
            f"needs {len(step.professions)} clinician(s)",
        )
    slots = []
    for position, profession in enumerate(step.professions):
        if fixed is not None:
            clinician = _known_clinician(instance, fixed[position])
            if clinician.profession != profession:
                raise InvalidInput(
                    f"case {case.case_id}: assigned {step.key}",
                    clinician.id,
                    f"is a {clinician.profession.value}, the step needs a {profession.value}",
                )
            slots.append((clinician.id,))
            continue
        ids = sorted(c.id for c in instance.clinicians.values() if c.profession == profession)
        slots.append(tuple(ids))
    return tuple(slots)


def _known_clinician(instance: Instance, clinician_id: str) -> Clinician:
    if clinician_id not in instance.clinicians:
        raise NotFound("clinician", clinician_id)
    return instance.clinicians[clinician_id]


def _classify_booking(instance: Instance, task: Task, booking: Booking) -> None:
    day = instance.index_of(booking.day)
    for position, clinician_id in enumerate(booking.clinician_ids):
        clinician = _known_clinician(instance, clinician_id)
        if clinician.profession != task.step.professions[position]:
            raise InvalidInput(
                f"case {task.case_id}: booking {task.key}",
                clinician_id,
                f"is not a {task.step.professions[position].value}",
            )
    task.frozen = day < instance.frozen_end
    valid = (
        day < instance.horizon
        and day not in task.blocked_days
        and all(instance.capacity[c][day] > 0 for c in booking.clinician_ids)
    )
    task.fixed = task.frozen or (valid and not instance.settings.move_bookings)


def _release_successors_of_movable(instance: Instance) -> None:
    """A kept booking after a step that may move may move too; frozen ones never move."""
    changed = True
    while changed:
        changed = False
        for task in instance.tasks:
            if not task.fixed or task.frozen:
                continue
            if any(not instance.tasks[p].fixed for p, _ in task.preds):
                task.fixed = False
                changed = True
    for task in instance.tasks:
        if task.fixed:
            task.preds = []
