"""The clinic planning problem as plain data: cases, bookings, settings and the resulting plan.

Independent of the database: the case engine builds `PlanningCase`s and `Clinician`s, the
scheduler (`essence.scheduling.clinic_planner.plan_clinic`) returns a `Plan`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from importlib import resources

import yaml

from essence.domain.errors import InvalidInput
from essence.domain.family import FamilyNeeds
from essence.domain.geography import municipality
from essence.domain.pathway import PathwayTemplate
from essence.scheduling.solver import SolveReport

#: Where the team receives families: the Umeå clinic and the satellite sites.
DEFAULT_SITES: tuple[str, ...] = ("Umeå", "Skellefteå", "Lycksele")

#: Place kinds an appointment can have.
PLACE_KINDS = ("clinic", "home_municipality", "preschool", "video", "internal")


@dataclass(frozen=True)
class Place:
    """Where an appointment happens.

    Attributes:
        kind: "clinic" (Umeå or a satellite site), "home_municipality" (the team travels to
            the family's municipality), "preschool", "video" or "internal" (staff only, at
            the clinician's base or by video).
        municipality: The municipality it happens in ("" for video).
    """

    kind: str
    municipality: str = ""

    def __post_init__(self) -> None:
        if self.kind not in PLACE_KINDS:
            raise InvalidInput("place", self.kind, "unknown; one of " + ", ".join(PLACE_KINDS))

    def describe(self) -> str:
        """Human text, e.g. ``clinic, Lycksele`` or ``video``."""
        names = {
            "clinic": "clinic",
            "home_municipality": "local health centre",
            "preschool": "the child's preschool",
            "video": "video meeting",
            "internal": "team (no family)",
        }
        text = names[self.kind]
        return f"{text}, {self.municipality}" if self.municipality else text


@dataclass(frozen=True)
class Booking:
    """An appointment already given to a family (or booked for staff).

    Attributes:
        case_id: The case it belongs to.
        step_key: The pathway step it is for.
        day: The calendar day (Europe/Stockholm).
        clinician_ids: The clinicians booked, one per profession of the step.
        place: Where it was booked (None: decided by the planner).
        start_minute: Clock time as minutes after midnight (None: decided by the planner).
    """

    case_id: str
    step_key: str
    day: date
    clinician_ids: tuple[str, ...]
    place: Place | None = None
    start_minute: int | None = None

    def __post_init__(self) -> None:
        if self.start_minute is not None and not 0 <= self.start_minute < 24 * 60:
            raise InvalidInput("start_minute", self.start_minute, "must be 0..1439")


@dataclass(frozen=True)
class PlanningCase:
    """One child's combined investigation as the planner sees it (no personal data needed).

    Attributes:
        case_id: The case identifier (never a personnummer).
        referral_date: The day the referral was received (lead time counts from it).
        municipality: Where the family lives (one of Västerbotten's 15 municipalities).
        template: The pathway the case follows.
        team_travels: True when the team comes to the family's municipality (ambulating),
            False when the family travels to the nearest clinic site.
        completed: Steps already done, with the day each was done.
        ready_from: Optional earliest day for a step (e.g. a preschool's term start).
        assigned: Fixed clinicians for a step (one per profession, in the step's order).
        bookings: Appointments already given for this case.
        video_preferred: Hold steps that allow video by video (no travel for the family).
        first_name: The child's first name, used only in the family letter.
        needs: What the family needs (blocked days, interpreter, site, video): hard rules.
    """

    case_id: str
    referral_date: date
    municipality: str
    template: PathwayTemplate
    team_travels: bool = False
    completed: dict[str, date] = field(default_factory=dict)
    ready_from: dict[str, date] = field(default_factory=dict)
    assigned: dict[str, tuple[str, ...]] = field(default_factory=dict)
    bookings: tuple[Booking, ...] = ()
    video_preferred: bool = False
    first_name: str = ""
    needs: FamilyNeeds = field(default_factory=FamilyNeeds)

    @property
    def wants_video(self) -> bool:
        """True when steps that allow video are held by video."""
        return self.video_preferred or self.needs.video_preferred

    def __post_init__(self) -> None:
        if not self.case_id:
            raise InvalidInput("case id", self.case_id, "must not be empty")
        object.__setattr__(self, "municipality", municipality(self.municipality).name)
        keys = set(self.template.keys)
        for name, mapping in (
            ("completed", self.completed),
            ("ready_from", self.ready_from),
            ("assigned", self.assigned),
        ):
            for key in mapping:
                if key not in keys:
                    raise InvalidInput(f"case {self.case_id}: {name}", key, "unknown step")
        for booking in self.bookings:
            self._check_booking(booking, keys)

    def _check_booking(self, booking: Booking, keys: set[str]) -> None:
        if booking.case_id != self.case_id:
            raise InvalidInput(f"case {self.case_id}: booking", booking.case_id, "other case")
        if booking.step_key not in keys:
            raise InvalidInput(f"case {self.case_id}: booking", booking.step_key, "unknown step")
        step = self.template.step(booking.step_key)
        if len(booking.clinician_ids) != len(step.professions):
            raise InvalidInput(
                f"case {self.case_id}: booking {booking.step_key}",
                ",".join(booking.clinician_ids),
                f"needs {len(step.professions)} clinician(s)",
            )


@dataclass(frozen=True)
class Weights:
    """Cost points of the planning objective (all non-negative integers).

    The objective is the weighted sum; e.g. with the defaults one extra family visit day
    (60) is worth three days earlier feedback (3 x 20).

    Attributes:
        feedback_day: Per day from referral to the feedback meeting, summed over cases.
        late_90: Per day the feedback comes later than 90 days after referral.
        late_140: Per day later than the 140-day (20-week) baseline (added to late_90).
        visit_day: Per family visit day (a calendar day the family meets the team).
        staff_km: Per km driven by staff (round trips).
        move: Per booked appointment that is moved (other day or other clinicians).
        continuity: Per extra clinician of one profession seeing the same child.
        step_day: Per day of any step (keeps work early that does not end the lead time).
    """

    feedback_day: int = 20
    late_90: int = 40
    late_140: int = 100
    visit_day: int = 60
    staff_km: int = 1
    move: int = 200
    continuity: int = 30
    step_day: int = 1

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not isinstance(value, int) or value < 0:
                raise InvalidInput(f"weights.{name}", value, "must be a non-negative integer")


@dataclass(frozen=True)
class PlanSettings:
    """Everything the clinic planner can be tuned with, validated on construction.

    Attributes:
        start: First day of the planning horizon (today, normally).
        horizon_weeks: Length of the rolling horizon, in weeks (> 0).
        budget_s: Wall-clock budget of the CP-SAT stage, in seconds (> 0).
        family_max_minutes: Longest visit day a young child can manage, minutes of steps.
        frozen_working_days: Bookings on the next N working days never move, and no new
            family appointment is placed there (families need notice).
        weights: Cost points of the objective.
        workers: CP-SAT search workers (1 in tests, for reproducible results).
        seed: CP-SAT random seed and LNS neighbourhood seed.
        move_bookings: When True, bookings outside the frozen window may move (each move
            costs `weights.move`); when False they stay unless a clinician became unavailable.
        sites: Municipalities with a clinic the family can travel to.
        travel_minutes_per_km: Staff driving time, minutes per km.
        max_round_trip_minutes: The team travels to a family's municipality only when the
            round trip takes at most this; otherwise the family meets at the nearest site.
        window_before_days: CP-SAT may move a step at most this many days before the greedy.
        window_after_days: CP-SAT may move a step at most this many days after the greedy.
        lns_min_tasks: Plans with at least this many steps to place are improved by LNS.
        lns_cases_per_round: Cases re-solved together in one LNS round.
        lns_rounds: Stop LNS after this many rounds (0: use the whole budget). A fixed
            number of rounds with one worker makes LNS results reproducible.
        deterministic: Count CP-SAT budgets in deterministic time (same plan on any
            machine, with one worker and a fixed number of LNS rounds).
        grid_minutes: Appointments start on this grid, minutes (the team's setting; 15).
        family_leave_minute: A family leaves home no earlier than this (420 = 07:00).
        family_home_minute: A family is home again by this (1080 = 18:00).
        not_before_minute: Nothing new starts before this minute after midnight on the
            first day (`start`): the time a plan made during the day is made (0: none).
    """

    start: date
    horizon_weeks: int = 10
    budget_s: float = 10.0
    family_max_minutes: int = 240
    frozen_working_days: int = 5
    weights: Weights = field(default_factory=Weights)
    workers: int = 1
    seed: int = 0
    move_bookings: bool = False
    sites: tuple[str, ...] = DEFAULT_SITES
    travel_minutes_per_km: float = 0.75
    max_round_trip_minutes: int = 240
    window_before_days: int = 21
    window_after_days: int = 10
    lns_min_tasks: int = 400
    lns_cases_per_round: int = 3
    lns_rounds: int = 0
    deterministic: bool = False
    grid_minutes: int = 15
    family_leave_minute: int = 420
    family_home_minute: int = 1080
    not_before_minute: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.horizon_weeks, int) or self.horizon_weeks <= 0:
            raise InvalidInput("horizon-weeks", self.horizon_weeks, "must be a positive integer")
        if not (self.budget_s > 0 and math.isfinite(self.budget_s)):
            raise InvalidInput("budget-s", self.budget_s, "seconds must be positive")
        self._check_positive("family-max-minutes", self.family_max_minutes)
        self._check_positive("workers", self.workers)
        self._check_positive("lns-cases-per-round", self.lns_cases_per_round)
        for name, value in (
            ("frozen-working-days", self.frozen_working_days),
            ("window-before-days", self.window_before_days),
            ("window-after-days", self.window_after_days),
            ("max-round-trip-minutes", self.max_round_trip_minutes),
            ("travel-minutes-per-km", self.travel_minutes_per_km),
            ("lns-rounds", self.lns_rounds),
        ):
            if value < 0:
                raise InvalidInput(name, value, "must not be negative")
        if not isinstance(self.grid_minutes, int) or not 1 <= self.grid_minutes <= 60:
            raise InvalidInput("grid-minutes", self.grid_minutes, "must be 1..60")
        if not 0 <= self.family_leave_minute < self.family_home_minute <= 24 * 60:
            raise InvalidInput(
                "family hours",
                f"{self.family_leave_minute}-{self.family_home_minute}",
                "leaving must come before being home, within the day",
            )
        if not 0 <= self.not_before_minute <= 24 * 60:
            raise InvalidInput("not-before-minute", self.not_before_minute, "must be 0..1440")
        if not self.sites:
            raise InvalidInput("sites", "", "name at least one clinic site")
        object.__setattr__(self, "sites", tuple(municipality(s).name for s in self.sites))

    @staticmethod
    def _check_positive(name: str, value: int) -> None:
        if value <= 0:
            raise InvalidInput(name, value, "must be positive")

    @property
    def horizon_days(self) -> int:
        """Calendar days in the horizon."""
        return self.horizon_weeks * 7


@dataclass(frozen=True)
class Appointment:
    """One planned step: when, where and with whom.

    Attributes:
        case_id: The case.
        step_key: The pathway step.
        title: The step's title.
        day: Calendar day (Europe/Stockholm).
        start: Aware datetime in Europe/Stockholm.
        end: Aware datetime in Europe/Stockholm.
        clinician_ids: Clinicians taking part (one per profession of the step).
        place: Where it happens.
        family_facing: True when the child or guardians attend.
        booked: True when it was already booked before this plan.
        moved: True when it was booked and this plan moves it.
        status: As stored: "booked", "attended", "cancelled" or "no_show".
        sequence: iCalendar SEQUENCE, raised by every stored change (0 when new).
        record_id: Stored row id (None for a plan not stored yet); part of the event UID.
    """

    case_id: str
    step_key: str
    title: str
    day: date
    start: datetime
    end: datetime
    clinician_ids: tuple[str, ...]
    place: Place
    family_facing: bool
    booked: bool = False
    moved: bool = False
    status: str = "booked"
    sequence: int = 0
    record_id: int | None = None

    @property
    def minutes(self) -> int:
        """Duration in minutes."""
        return int((self.end - self.start).total_seconds() // 60)

    def as_booking(self) -> Booking:
        """This appointment as a booking (to re-plan around it)."""
        start_minute = self.start.hour * 60 + self.start.minute
        return Booking(
            self.case_id, self.step_key, self.day, self.clinician_ids, self.place, start_minute
        )


@dataclass(frozen=True)
class Unscheduled:
    """A step that is not scheduled yet, and why (it never makes the plan infeasible)."""

    case_id: str
    step_key: str
    reason: str


@dataclass(frozen=True)
class CaseMetrics:
    """Figures of one case in a plan.

    Attributes:
        case_id: The case.
        referral_date: When the referral was received.
        feedback_date: Projected (or done) feedback meeting day, None if beyond the plan.
        lead_days: Days from referral to feedback, None when the feedback is not planned.
        visit_days: Calendar days the family meets the team in this plan (incl. video).
        family_km: Km the family drives (round trips) in this plan.
        moved_bookings: Booked appointments of this case the plan moves.
    """

    case_id: str
    referral_date: date
    feedback_date: date | None
    lead_days: int | None
    visit_days: int
    family_km: int
    moved_bookings: int = 0


@dataclass(frozen=True)
class Plan:
    """The coordinated plan: appointments, what could not be placed, figures and solve report.

    Attributes:
        appointments: Every planned step, sorted by day and time.
        unscheduled: Steps not scheduled yet, each with its reason.
        cases: Figures per case id.
        staff_km: Km driven by staff in the plan (round trips).
        report: Status, objective, best bound, gap and wall time of the final stage.
        method: "greedy", "cpsat", "cpsat+lns" or "sequential".
        greedy_objective: Objective value of the greedy warm start (same weights).
        settings: The settings the plan was made with.
        bound_parts: Our lower bound by parts (`clinic_bound.BoundParts`), None for a
            plan that was not solved (e.g. rebuilt from bookings).
        cpsat_bound: CP-SAT's own bound of the day-level model (None when it has none);
            `report.best_bound` is the better of the two.
        objective_parts: The objective split like the bound (`evaluate_parts`).
        stage_objectives: The reported objective after each stage of a solved plan, to see
            where a plan gains or loses: "day_level" (the search's day-level plan the
            clock times were made of: its last, or a checkpoint's when that scored better
            with clock times), "clock_times" (after clock times and their relief) and
            "polished" (after the polish; the objective unless the checker then took
            steps out); None for a plan rebuilt from bookings.
    """

    appointments: tuple[Appointment, ...]
    unscheduled: tuple[Unscheduled, ...]
    cases: dict[str, CaseMetrics]
    staff_km: int
    report: SolveReport
    method: str
    greedy_objective: int
    settings: PlanSettings
    bound_parts: object | None = None
    cpsat_bound: float | None = None
    objective_parts: dict[str, int] | None = None
    stage_objectives: dict[str, int] | None = None

    @property
    def moved_count(self) -> int:
        """Booked appointments this plan moves."""
        return sum(1 for a in self.appointments if a.moved)

    def for_case(self, case_id: str) -> tuple[Appointment, ...]:
        """Appointments of one case."""
        return tuple(a for a in self.appointments if a.case_id == case_id)

    def for_clinician(self, clinician_id: str) -> tuple[Appointment, ...]:
        """Appointments one clinician takes part in."""
        return tuple(a for a in self.appointments if clinician_id in a.clinician_ids)

    def to_dict(self) -> dict[str, object]:
        """Plain data for `--json` output (ISO dates and times, no personal data)."""
        report = self.report
        return {
            "method": self.method,
            "solve": {
                "status": report.status,
                "objective": report.objective,
                "best_bound": report.best_bound,
                "gap": report.gap,
                "wall_seconds": round(report.wall_seconds, 3),
                "greedy_objective": self.greedy_objective,
                "cpsat_bound": self.cpsat_bound,
                "bound_parts": self.bound_parts.to_dict() if self.bound_parts else None,
                "objective_parts": self.objective_parts,
                "stage_objectives": self.stage_objectives,
            },
            "staff_km": self.staff_km,
            "appointments": [
                {
                    "case_id": a.case_id,
                    "step": a.step_key,
                    "start": a.start.isoformat(),
                    "end": a.end.isoformat(),
                    "clinicians": list(a.clinician_ids),
                    "place": a.place.kind,
                    "municipality": a.place.municipality,
                    "family_facing": a.family_facing,
                    "booked": a.booked,
                    "moved": a.moved,
                }
                for a in self.appointments
            ],
            "not_scheduled_yet": [
                {"case_id": u.case_id, "step": u.step_key, "reason": u.reason}
                for u in self.unscheduled
            ],
            "cases": {
                case_id: {
                    "referral_date": m.referral_date.isoformat(),
                    "feedback_date": m.feedback_date.isoformat() if m.feedback_date else None,
                    "lead_days": m.lead_days,
                    "visit_days": m.visit_days,
                    "family_km": m.family_km,
                    "moved_bookings": m.moved_bookings,
                }
                for case_id, m in self.cases.items()
            },
        }

    def bookings(self, family_only: bool = False) -> dict[str, tuple[Booking, ...]]:
        """The appointments as bookings, by case id (to re-plan around this plan).

        Args:
            family_only: Only appointments the family attends (staff-only steps may then
                be planned again freely).
        """
        result: dict[str, list[Booking]] = {}
        for appointment in self.appointments:
            if family_only and not appointment.family_facing:
                continue
            result.setdefault(appointment.case_id, []).append(appointment.as_booking())
        return {case_id: tuple(items) for case_id, items in result.items()}


@lru_cache(maxsize=1)
def default_template() -> PathwayTemplate:
    """The packaged default ESSENCE pathway (`essence/pathways/essence-default.yaml`)."""
    text = resources.files("essence").joinpath("pathways/essence-default.yaml").read_text("utf-8")
    return PathwayTemplate.from_mapping(yaml.safe_load(text))
