"""The demo: a synthetic cohort through the engine, booked by the combined scheduler.

Children are referred over several months. Each working day the coordinator opens the
day's referrals and books them with the scheduler (greedy on referral days, CP-SAT every
Monday, in deterministic time so two runs give the same figures); clinicians then do the
appointments booked for the day. Everything goes through the ordinary services, as the
proper users, so consent, permissions, audit and lead-time metrics are exercised end to
end. At the end the same cohort is planned as sequential referrals (one profession after
another, as before the team) for the side-by-side comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import mean, median

import numpy as np

from essence.domain.access import User
from essence.domain.calendar import at_local, is_working_day
from essence.domain.errors import IllegalTransition
from essence.domain.geography import MUNICIPALITIES
from essence.domain.metrics import case_metrics
from essence.domain.personnummer import synthetic_personnummer
from essence.domain.states import StepState
from essence.domain.team import Clinician
from essence.scheduling.clinic_problem import PlanningCase, PlanSettings
from essence.scheduling.sequential import sequential_plan
from essence.scheduling.travel import family_km, staff_km
from essence.services import cases as case_service
from essence.services import steps as step_service
from essence.services.context import ServiceContext, run_use_case
from essence.services.ports import UnitOfWork
from essence.services.reporting import ReportView, report
from essence.services.scheduling import plan_schedule
from essence.services.sweep import advance_waiting_steps

FIRST_NAMES = (
    "Alva", "Elsa", "Maja", "Wilma", "Saga", "Ebba", "Stella", "Alice", "Vera", "Freja",
    "Noah", "Hugo", "William", "Liam", "Elias", "Lucas", "Oliver", "Alfred", "Nils", "Sixten",
)  # fmt: skip
LAST_NAMES = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Lundgren", "Holmberg",
    "Sandström", "Lindberg", "Burman", "Marklund", "Lindström", "Wiklund", "Öhman",
)  # fmt: skip
REFERRING_UNITS = ("BHV", "BUP", "BUC", "Hälsocentral", "Förskola via BHV")
WEEKLY_PLAN_BUDGET = 1.0  # deterministic-time units for the Monday CP-SAT plan
DEMO_START = date(2026, 1, 12)


@dataclass
class SimulatedClock:
    """A clock the demo moves forward; services read it as their `now`."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class SyntheticReferral:
    """One invented child and referral of the demo cohort."""

    referral: case_service.Referral
    consent_delay_days: int


@dataclass(frozen=True)
class PolicyFigures:
    """One column of the side-by-side table (lead times over cases whose feedback is held
    or planned; km are round trips)."""

    policy: str
    cases: int
    with_feedback: int
    median_lead_days: float | None
    mean_lead_days: float | None
    within_90_days: int
    mean_visit_days: float | None
    family_km: int
    staff_km: int


@dataclass
class DemoResult:
    """What the demo produced: the report at the end, counts, and the policy comparison."""

    report: ReportView
    start: date
    end: date
    cases_opened: int
    steps_completed: int
    days_simulated: int
    plans_made: int
    comparison: list[PolicyFigures] = field(default_factory=list)


def synthetic_cohort(
    rng: np.random.Generator, children: int, start: date, weeks: int
) -> list[SyntheticReferral]:
    """Invented children spread over the 15 municipalities by population, referred on
    working days within `weeks` weeks of `start` (sorted by referral date)."""
    populations = np.array([m.population for m in MUNICIPALITIES], dtype=float)
    homes = rng.choice(len(MUNICIPALITIES), size=children, p=populations / populations.sum())
    working_days = [d for i in range(weeks * 7) if is_working_day(d := start + timedelta(days=i))]
    referral_days = sorted(rng.choice(len(working_days), size=children))
    cohort = []
    for index in range(children):
        referral_date = working_days[referral_days[index]]
        birth = referral_date - timedelta(days=int(rng.integers(2 * 365, 6 * 365)))
        pnr = synthetic_personnummer(birth, int(rng.integers(0, 1000)))
        late_consent = rng.random() < 0.15
        cohort.append(
            SyntheticReferral(
                referral=case_service.Referral(
                    personnummer=pnr.digits,
                    child_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    municipality=MUNICIPALITIES[int(homes[index])].name,
                    referring_unit=str(rng.choice(REFERRING_UNITS)),
                    referral_date=referral_date,
                    consenting=1 if late_consent else 2,
                ),
                consent_delay_days=int(rng.integers(3, 15)) if late_consent else 0,
            )
        )
    return cohort


def run_demo(
    ctx: ServiceContext,
    clock: SimulatedClock,
    *,
    seed: int = 2026,
    children: int = 40,
    start: date = DEMO_START,
    referral_weeks: int = 26,
    total_weeks: int = 29,
    coordinator: str = "coord-1",
    on_day: Callable[[date, int], None] | None = None,
) -> DemoResult:
    """Run the synthetic cohort through the engine, day by day; return the final report.

    Args:
        ctx: A context on an initialised database with the demo team.
        clock: The simulated clock the context reads.
        seed: Seed of the numpy Generator behind the cohort (same seed, same figures).
        children: Cohort size.
        start: First simulated day.
        referral_weeks: Weeks over which referrals arrive.
        total_weeks: Weeks simulated in all (later cases are still open at the end).
        coordinator: The coordinator's user id.
        on_day: Progress callback(day, days_total).
    """
    rng = np.random.default_rng(seed)
    cohort = synthetic_cohort(rng, children, start, referral_weeks)
    ctx.id_factory = lambda: "c-" + rng.bytes(5).hex()
    coordinator_ctx = ctx.as_user(coordinator)
    team = run_use_case(ctx.as_system(), "demo.team", lambda uow, _u: uow.clinicians.list())
    pending_consent: dict[date, list[str]] = {}
    completed = plans = 0
    days = total_weeks * 7
    for offset in range(days):
        day = start + timedelta(days=offset)
        clock.now = at_local(day, 7)
        changed = False
        for referral in [r for r in cohort if r.referral.referral_date == day]:
            view = case_service.open_case(coordinator_ctx, referral.referral)
            changed = changed or not referral.consent_delay_days
            if referral.consent_delay_days:
                due = day + timedelta(days=referral.consent_delay_days)
                pending_consent.setdefault(due, []).append(view.id)
        for case_id in pending_consent.pop(day, []):
            case_service.record_consent(coordinator_ctx, case_id, 2)
            changed = True
        advance_waiting_steps(ctx)
        if is_working_day(day):
            monday = day.weekday() == 0
            if changed or monday:
                _book(coordinator_ctx, cp_sat=monday, seed=seed)
                plans += 1
            completed += _do_todays_appointments(ctx, clock, day)
        if on_day:
            on_day(day, days)
    final = report(coordinator_ctx)
    return DemoResult(
        report=final,
        start=start,
        end=start + timedelta(days=days - 1),
        cases_opened=len(cohort),
        steps_completed=completed,
        days_simulated=days,
        plans_made=plans,
        comparison=[_coordinated_figures(ctx, team), _sequential_figures(ctx, team, start)],
    )


def _book(ctx: ServiceContext, *, cp_sat: bool, seed: int) -> None:
    """Book what is not booked yet (kept bookings stay); CP-SAT on Mondays, else greedy."""
    plan_schedule(
        ctx,
        budget_s=WEEKLY_PLAN_BUDGET,
        workers=1,
        seed=seed,
        use_cpsat=cp_sat,
        deterministic=True,
    )


def _do_todays_appointments(ctx: ServiceContext, clock: SimulatedClock, day: date) -> int:
    """Each clinician does today's booked steps in clock order; a step whose prerequisite
    was not done in time stays for the next plan."""
    todays = run_use_case(
        ctx.as_system(),
        "demo.today",
        lambda uow, _u: uow.appointments.list(first_day=day, last_day=day),
    )
    done = 0
    for appointment in todays:
        clock.now = appointment.end
        actor = ctx.as_user(appointment.clinician_ids[0])
        try:
            step_service.complete_step(actor, appointment.case_id, appointment.step_key, "done")
        except IllegalTransition:
            continue  # not ready yet: nothing was written, the next plan books it again
        done += 1
    return done


def _coordinated_figures(ctx: ServiceContext, team: list[Clinician]) -> PolicyFigures:
    """The engine's actual results: held feedback meetings, visit days and km driven."""

    def body(uow: UnitOfWork, _user: User) -> PolicyFigures:
        cases = uow.cases.list()
        attended = uow.appointments.list(statuses=["attended"])
        by_id = {c.id: c for c in cases}
        done = [
            a for a in attended if by_id[a.case_id].steps[a.step_key].state is StepState.COMPLETED
        ]
        today = max((a.day for a in done), default=date.today())
        metrics = [case_metrics(c, today) for c in cases]
        homes = {c.id: c.municipality for c in cases}
        return _figures(
            "coordinated plan (essence)",
            [(m.lead_time_days, m.visit_days) for m in metrics],
            family=sum(
                family_km(homes[cid], [a for a in done if a.case_id == cid]) for cid in homes
            ),
            staff=staff_km(done, {c.id: c for c in team}),
        )

    return run_use_case(ctx.as_system(), "demo.figures", body)


def _sequential_figures(ctx: ServiceContext, team: list[Clinician], start: date) -> PolicyFigures:
    """The same cohort planned as sequential referrals, one profession after another."""
    cases = run_use_case(ctx.as_system(), "demo.cohort", lambda uow, _u: uow.cases.list())
    fresh = [
        PlanningCase(
            case_id=c.id,
            referral_date=c.referral_date,
            municipality=c.municipality,
            template=c.template,
            ready_from={
                key: c.referral_date for key in c.template.keys if not c.definition(key).requires
            },
        )
        for c in cases
    ]
    plan = sequential_plan(fresh, team, PlanSettings(start=start, workers=1, deterministic=True))
    return _figures(
        "sequential referrals (before)",
        [(m.lead_days, m.visit_days) for m in plan.cases.values()],
        family=sum(m.family_km for m in plan.cases.values()),
        staff=plan.staff_km,
    )


def _figures(
    policy: str, lead_and_visits: list[tuple[int | None, int]], *, family: int, staff: int
) -> PolicyFigures:
    """One comparison column from (lead days or None, visit days) per case."""
    leads = [lead for lead, _ in lead_and_visits if lead is not None]
    visits = [v for lead, v in lead_and_visits if lead is not None]
    return PolicyFigures(
        policy=policy,
        cases=len(lead_and_visits),
        with_feedback=len(leads),
        median_lead_days=median(leads) if leads else None,
        mean_lead_days=round(mean(leads), 1) if leads else None,
        within_90_days=sum(1 for x in leads if x <= 90),
        mean_visit_days=round(mean(visits), 2) if visits else None,
        family_km=family,
        staff_km=staff,
    )
