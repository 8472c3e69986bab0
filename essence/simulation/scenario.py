"""The scenario a planner simulates: referrals, pathway, staff, calendars, set-up and policies.

A scenario is data (YAML); every level forbids unknown keys so a typo is named, not ignored.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from essence.domain.errors import InvalidInput
from essence.domain.geography import MUNICIPALITIES
from essence.domain.professions import Profession

_STRICT = ConfigDict(extra="forbid", frozen=True)


class DurationSpec(BaseModel):
    """How long a step takes, in staff minutes.

    Attributes:
        kind: ``fixed``, ``exponential``, ``lognormal`` (default) or ``empirical``.
        cv: Coefficient of variation of the lognormal (standard deviation / mean).
        mean_minutes: Mean in minutes; defaults to the template's minutes for the step.
        samples: Observed minutes for ``empirical`` (drawn with replacement).
    """

    model_config = _STRICT
    kind: Literal["fixed", "exponential", "lognormal", "empirical"] = "lognormal"
    cv: float = Field(default=0.3, ge=0)
    mean_minutes: float | None = Field(default=None, gt=0)
    samples: tuple[float, ...] = ()

    @model_validator(mode="after")
    def _empirical_needs_samples(self) -> DurationSpec:
        if self.kind == "empirical" and not self.samples:
            raise ValueError("empirical durations need samples (minutes)")
        if any(s <= 0 for s in self.samples):
            raise ValueError("samples must be positive minutes")
        return self


class MunicipalitySpec(BaseModel):
    """A municipality as the scenario sees it (defaults come from essence.domain.geography)."""

    model_config = _STRICT
    name: str
    population: float = Field(ge=0)
    km_to_umea: float = Field(ge=0)
    group: str


class ReferralSpec(BaseModel):
    """Where referrals come from and who they are.

    Attributes:
        seasonality: Relative dip of referrals in mid-July (0 = none, 0.5 = half as many).
        boys_share: Share of boys among referred children (0..1).
        age_bands: Weight per age band (years), normalised.
        municipalities: Population and km per municipality; default: the 15 of Västerbotten.
    """

    model_config = _STRICT
    seasonality: float = Field(default=0.3, ge=0, le=1)
    boys_share: float = Field(default=0.7, ge=0, le=1)
    age_bands: dict[str, float] = Field(
        default_factory=lambda: {"0-2": 0.15, "3-5": 0.65, "6-17": 0.2}
    )
    municipalities: tuple[MunicipalitySpec, ...] = Field(
        default_factory=lambda: tuple(
            MunicipalitySpec(
                name=m.name, population=m.population, km_to_umea=m.km_to_umea, group=m.group
            )
            for m in MUNICIPALITIES
        )
    )


class CalendarSpec(BaseModel):
    """Working calendar of the staff.

    Attributes:
        enabled: False gives continuous time: staff always available (textbook queueing).
        continuous_minutes_per_day: Work minutes per day per staff member when disabled.
        holidays: Close on Swedish public holidays.
        vacation_weeks: Consecutive weeks of summer vacation per staff member.
        vacation_start_weeks: ISO weeks in which a staff member's vacation may start.
        sick_leave_rate: Probability that a staff member is off sick on a working day.
    """

    model_config = _STRICT
    enabled: bool = True
    continuous_minutes_per_day: float = Field(default=1440, gt=0)
    holidays: bool = True
    vacation_weeks: int = Field(default=5, ge=0, le=10)
    vacation_start_weeks: tuple[int, ...] = (25, 26, 27, 28)
    sick_leave_rate: float = Field(default=0.04, ge=0, lt=1)


class TeamSpec(BaseModel):
    """One team: where it is based and how many staff of each profession it has."""

    model_config = _STRICT
    base: str = "Umeå"
    staff: dict[Profession, int]


class SetupSpec(BaseModel):
    """The team set-up: who travels, and when video replaces a visit.

    Attributes:
        kind: ``central`` (one team, families travel), ``satellites`` (several teams, each
            child goes to the nearest), ``ambulating`` (staff travel to the child's
            municipality) or ``travelling`` (families travel for everything, no video).
        video_km: Families farther than this (km) from their team meet by video where allowed.
        local_km: Road km of a trip inside one municipality.
        speed_kmh: Average road speed for staff travel time, km/h.
        no_show_per_100km: Extra no-show probability per 100 km a family travels.
    """

    model_config = _STRICT
    kind: Literal["central", "satellites", "ambulating", "travelling"] = "central"
    video_km: float = Field(default=100, ge=0)
    local_km: float = Field(default=10, ge=0)
    speed_kmh: float = Field(default=70, gt=0)
    no_show_per_100km: float = Field(default=0.01, ge=0, le=1)


class PolicySpec(BaseModel):
    """How cases move through the pathway.

    Attributes:
        parallel: Run independent steps at the same time (fork/join); False = one after another.
        bundle: Book family-facing bundle steps that are ready together on one visit day.
        handoff_days: Referral handling (days) when the next step belongs to another profession.
        booking_days: Notice (days) between a family-facing step being ready and its visit.
        queue_order: ``referral`` (oldest referral first) or ``fifo`` (order of arrival in queue).
    """

    model_config = _STRICT
    parallel: bool = True
    bundle: bool = True
    handoff_days: float = Field(default=0, ge=0)
    booking_days: float = Field(default=7, ge=0)
    queue_order: Literal["referral", "fifo"] = "referral"


DEFAULT_POLICIES: dict[str, PolicySpec] = {
    "sequential": PolicySpec(
        parallel=False, bundle=False, handoff_days=2.5, booking_days=7, queue_order="fifo"
    ),
    "coordinated": PolicySpec(parallel=True, bundle=True, handoff_days=0, booking_days=7),
}

DEFAULT_STAFF: dict[Profession, int] = {
    Profession.COORDINATOR: 1,
    Profession.PSYCHOLOGIST: 4,
    Profession.SPEECH_THERAPIST: 3,
    Profession.PHYSICIAN: 2,
    Profession.PHYSIOTHERAPIST: 1,
    Profession.BHV_NURSE: 1,
    Profession.HABILITATION: 1,
}


class Scenario(BaseModel):
    """Everything one simulation run needs; see essence/scenarios/default.yaml.

    Attributes:
        children_per_year: Mean referrals per year (Poisson).
        years: Years whose referrals (the cohort) are scored, after the warm-up.
        warmup_days: Days simulated first and discarded (the system fills up).
        max_cooldown_days: After the cohort window the run continues (referrals keep
            coming) until every cohort child got feedback, at most this many days.
        replications: Independent replications (95% CIs need at least 2).
        seed: Root seed; replication r uses SeedSequence(seed, spawn_key=(r,)).
        start_date: Calendar date of simulation day 0.
        pathway: Inline pathway template (mapping) or None for essence-default.
        durations: Default duration model plus per-step overrides by step key.
        no_show_rate: Probability a family misses a family-facing appointment.
        rebook_days: Days until a missed appointment is booked again.
        roster: Clinical minutes per weekday (Mon..Sun) of one staff member.
        daily_cap_minutes: Upper limit of clinical minutes on any day.
        fte_weekly_minutes: Clinical minutes per week of one full-time post (for FTE).
        teams: The teams and their staff per profession.
        policies: Named policies simulated side by side.
    """

    model_config = _STRICT
    children_per_year: float = Field(default=300, gt=0)
    years: float = Field(default=3, gt=0)
    warmup_days: float = Field(default=180, ge=0)
    max_cooldown_days: float = Field(default=730, ge=0)
    replications: int = Field(default=20, ge=1)
    seed: int = Field(default=1, ge=0)
    start_date: date = date(2025, 1, 6)
    pathway: dict[str, Any] | None = None
    duration: DurationSpec = DurationSpec()
    step_durations: dict[str, DurationSpec] = Field(default_factory=dict)
    no_show_rate: float = Field(default=0.05, ge=0, le=1)
    rebook_days: float = Field(default=14, ge=0)
    roster: tuple[int, ...] = (300, 300, 300, 300, 300, 0, 0)
    daily_cap_minutes: int = Field(default=360, gt=0)
    fte_weekly_minutes: float = Field(default=1500, gt=0)
    referrals: ReferralSpec = ReferralSpec()
    calendar: CalendarSpec = CalendarSpec()
    setup: SetupSpec = SetupSpec()
    teams: tuple[TeamSpec, ...] = (TeamSpec(base="Umeå", staff=DEFAULT_STAFF),)
    policies: dict[str, PolicySpec] = Field(default_factory=lambda: dict(DEFAULT_POLICIES))


def parse_scenario(data: Any, source: str = "scenario") -> Scenario:
    """Validate raw data (parsed YAML) into a Scenario.

    Raises:
        InvalidInput: naming the first bad field (dotted path), its value and the reason;
            unknown keys are reported as ``unknown key``.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput(source, type(data).__name__, "must be a mapping of scenario settings")
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or source
        if first["type"] == "extra_forbidden":
            raise InvalidInput(f"{source}: {field}", "", "unknown key") from None
        value = first.get("input")
        shown = "" if isinstance(value, dict | list) else value
        reason = first["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"{source}: {field}", shown, reason) from None
