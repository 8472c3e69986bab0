"""The digital twin: the real engine and planner run day by day through simulated years.

On a scratch database, referrals from the simulator's referral model are opened through the
coordinator's services; a simulated clock (the ServiceContext's clock) moves one day at a time:
guardians' consent arrives after a sampled delay, the daily sweep runs, the real planner
re-plans (greedy plus CP-SAT within a budget, bookings frozen as in production), and on each
working day clinicians do the booked appointments, with no-shows, sick days, holidays and
vacations drawn from the simulator's seeded streams. Nothing waits and nothing patches time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from essence.domain.calendar import at_local, is_working_day
from essence.domain.errors import InvalidInput, PlanCheckFailed
from essence.domain.geography import road_km
from essence.domain.team import Absence, Clinician
from essence.services import cases as case_service
from essence.services import team as team_service
from essence.services.context import ServiceContext
from essence.services.demo import SimulatedClock
from essence.services.scheduling import plan_schedule
from essence.services.sweep import daily_sweep
from essence.services.twin_cohort import ConsentModel, TwinChild, twin_children
from essence.services.twin_day import DayWork, do_appointments
from essence.services.twin_staff import absence_plan, scenario_team
from essence.services.twin_timing import Stopwatch
from essence.simulation.model import Model, compile_model
from essence.simulation.referrals import DAYS_PER_YEAR, draw_referrals
from essence.simulation.scenario import Scenario
from essence.simulation.staff_calendar import staff_minutes
from essence.simulation.streams import replication_streams

#: spawn key of the twin's own generator (names, birth dates, consent), beside replication 0.
TWIN_STREAM_KEY = 15
REPLICATION = 0


@dataclass(frozen=True)
class TwinOptions:
    """How the twin runs the engine.

    Attributes:
        replan_every_days: Working days between full re-plans (greedy + CP-SAT within
            `budget_s`); on every other working day the planner re-plans greedily (its first
            stage, clock times and checker gate: new cases, consents, no-shows and sick
            calls are booked the same day). Measured on a 300-a-year twin, a daily CP-SAT
            pass on the frozen plan improved the greedy by under 0.1% for 2-4 s a day, so
            the default improves weekly.
        budget_s: CP-SAT budget of a re-plan, in deterministic seconds (reproducible).
        horizon_weeks: The planner's rolling horizon.
        consent: How and when guardians consent.
        max_days: Stop after this many simulated days (None: the scenario's horizon).
    """

    replan_every_days: int = 5
    budget_s: float = 1.0
    horizon_weeks: int = 10
    consent: ConsentModel = field(default_factory=ConsentModel)
    max_days: int | None = None

    def __post_init__(self) -> None:
        if self.replan_every_days < 1:
            raise InvalidInput("replan-every-days", self.replan_every_days, "must be at least 1")
        if not (self.budget_s > 0 and math.isfinite(self.budget_s)):
            raise InvalidInput("budget-s", self.budget_s, "seconds must be positive")
        if self.horizon_weeks < 1:
            raise InvalidInput("horizon-weeks", self.horizon_weeks, "must be at least 1")


@dataclass
class TwinRun:
    """What the twin did, before it is scored (see essence.services.twin_report).

    Attributes:
        model: The compiled scenario.
        window: Scored window in simulation days (after the warm-up).
        children: The invented children (index = referral number).
        case_ids: Case id per child index, for the children whose case was opened.
        team: The clinicians.
        days: Days simulated; end: the last simulated day.
        plans_cpsat / plans_greedy: Re-plans made.
        findings: Plans the scheduler's checker gate refused (a plan with a finding is never
            booked); must be 0.
        finding_examples: The first few refusals, for the report.
        work: Appointments done, missed and not possible, and sick days.
        timings: Seconds per phase.
    """

    model: Model
    window: tuple[float, float]
    children: list[TwinChild]
    case_ids: dict[int, str]
    team: list[Clinician]
    start: date
    end: date
    days: int = 0
    plans_cpsat: int = 0
    plans_greedy: int = 0
    findings: int = 0
    finding_examples: list[str] = field(default_factory=list)
    work: DayWork = field(default_factory=DayWork)
    timings: Stopwatch = field(default_factory=Stopwatch)
    unscheduled_steps: int = 0
    sick_days: int = 0


DayProgress = Callable[[int, int, date], None]


def run_twin(
    ctx: ServiceContext,
    clock: SimulatedClock,
    scenario: Scenario,
    options: TwinOptions | None = None,
    on_day: DayProgress | None = None,
) -> TwinRun:
    """Run the scenario's replication 0 through the engine, day by day.

    Args:
        ctx: A context on a fresh, initialised scratch database (never a real one) whose
            clock is `clock`.
        clock: The simulated clock; the twin moves it.
        scenario: The scenario (referrals, team, calendars, no-shows; policies are ignored).
        options: Re-plan cadence, CP-SAT budget, horizon, consent model.
        on_day: Progress callback (day number, days at most, date).

    Raises:
        InvalidInput: a bad option (named), or a scenario the engine cannot staff.
    """
    options = options or TwinOptions()
    watch = Stopwatch()
    with watch("set-up"):
        model = compile_model(scenario)
        streams = replication_streams(scenario.seed, REPLICATION)
        window = (scenario.warmup_days, scenario.warmup_days + scenario.years * DAYS_PER_YEAR)
        horizon = window[1] + scenario.max_cooldown_days
        referrals = draw_referrals(model, horizon, streams)
        team = scenario_team(model)
        calendar_days = math.ceil(horizon) + 1
        minutes = staff_minutes(scenario, calendar_days, len(team), streams.staff)
        start = scenario.start_date
        absences = absence_plan(team, minutes, start)
        own = np.random.default_rng(
            np.random.SeedSequence(scenario.seed, spawn_key=(REPLICATION, TWIN_STREAM_KEY))
        )
        children = twin_children(model, referrals, window, own, options.consent)
        ctx.id_factory = lambda: "c-" + own.bytes(5).hex()
        clock.now = at_local(start, 7)
        _set_up_team(ctx, team, absences.vacations)
    run = TwinRun(model, window, children, {}, team, start, start, timings=watch)
    coordinator = ctx.as_user(next(c.id for c in team if c.profession.value == "coordinator"))
    last_day = min(calendar_days - 1, options.max_days or calendar_days)
    waiting = list(children)
    consents: dict[date, list[tuple[str, int]]] = {}
    cohort_open = {c.index for c in children if c.in_cohort}
    working_days = 0
    no_show_rng = streams.no_shows
    for offset in range(last_day):
        day = start + timedelta(days=offset)
        run.days, run.end = offset + 1, day
        if offset > window[1] and not cohort_open:
            break
        clock.now = at_local(day, 7)
        if is_working_day(day):
            with watch("open cases"):
                _open_referrals(coordinator, day, waiting, run, consents)
            with watch("consent"):
                _record_consents(coordinator, consents, day)
            with watch("daily sweep"):
                daily_sweep(coordinator)
            full = working_days % options.replan_every_days == 0
            working_days += 1
            _plan(coordinator, run, options, scenario.seed, cpsat=full)
            with watch("sick calls"):
                sick = absences.sick.get(day, [])
                run.sick_days += len(sick)
                for clinician_id in sick:
                    team_service.add_absence(coordinator, clinician_id, Absence(day, day, "sick"))
            with watch("appointments"):
                done = do_appointments(
                    ctx, clock, day, set(sick), _no_show_p(scenario), no_show_rng, run.work
                )
            cohort_open -= {
                index for index, case_id in run.case_ids.items() if case_id in done.feedback_held
            }
        if on_day:
            on_day(offset + 1, last_day, day)
    return run


def _set_up_team(
    ctx: ServiceContext, team: list[Clinician], vacations: dict[str, list[Absence]]
) -> None:
    """Add the clinicians (with logins) and their planned vacations, as the system."""
    system = ctx.as_system()
    for clinician in team:
        team_service.add_clinician(system, clinician)
        for absence in vacations.get(clinician.id, []):
            team_service.add_absence(system, clinician.id, absence)


def _open_referrals(
    ctx: ServiceContext,
    day: date,
    waiting: list[TwinChild],
    run: TwinRun,
    consents: dict[date, list[tuple[str, int]]],
) -> None:
    """The coordinator opens every referral that has arrived, with the consents given by
    then; the consents still to come are queued by the day they arrive."""
    while waiting and waiting[0].referral_date <= day:
        child = waiting.pop(0)
        arrived = sorted(child.referral_date + timedelta(days=d) for d in child.consent_days)
        given = sum(1 for when in arrived if when <= day)
        view = case_service.open_case(
            ctx,
            case_service.Referral(
                personnummer=child.personnummer,
                child_name=child.child_name,
                municipality=child.municipality,
                referring_unit=child.referring_unit,
                referral_date=child.referral_date,
                guardians=child.guardians,
                consenting=given,
            ),
        )
        run.case_ids[child.index] = view.id
        for guardian, when in enumerate(arrived[given:], start=given + 1):
            consents.setdefault(when, []).append((view.id, guardian))


def _record_consents(
    ctx: ServiceContext, consents: dict[date, list[tuple[str, int]]], day: date
) -> None:
    """Record each guardian's consent that has arrived by `day`, dated the day it was given
    (the coordinator records weekend answers on Monday)."""
    for when in sorted(d for d in consents if d <= day):
        for case_id, guardian in consents.pop(when):
            case_service.record_guardian_consent(ctx, case_id, guardian, True, on=when)


def _plan(
    ctx: ServiceContext, run: TwinRun, options: TwinOptions, seed: int, *, cpsat: bool
) -> None:
    """Re-plan with the real planner (deterministic budgets, one worker); its checker gate
    runs on every plan before anything is booked."""
    label = "plan (greedy + CP-SAT)" if cpsat else "plan (greedy)"
    with run.timings(label):
        try:
            view = plan_schedule(
                ctx,
                horizon_weeks=options.horizon_weeks,
                budget_s=options.budget_s,
                workers=1,
                seed=seed,
                use_cpsat=cpsat,
                deterministic=True,
            )
        except PlanCheckFailed as refused:  # the checker gate refused the whole plan
            run.findings += 1
            run.finding_examples = [*run.finding_examples, str(refused)][:5]
            view = None
    run.unscheduled_steps += len(view.not_scheduled_yet) if view else 0
    if cpsat:
        run.plans_cpsat += 1
    else:
        run.plans_greedy += 1


def _no_show_p(scenario: Scenario) -> Callable[[str, str], float]:
    """Probability a family misses an appointment, as in the simulator's travel model:
    the base rate plus a share per 100 km the family drives to it."""
    base = scenario.no_show_rate
    per_km = scenario.setup.no_show_per_100km / 100.0

    def probability(home: str, where: str) -> float:
        if not where or where == home:
            return base
        return min(1.0, base + per_km * road_km(home, where))

    return probability
