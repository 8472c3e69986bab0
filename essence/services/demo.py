"""The demo: a synthetic cohort through the engine with an earliest-available policy.

Children are referred over several months; each working day the coordinator opens the day's
referrals and every clinician does the ready steps assigned to them, earliest first, within
their roster minutes (joint steps when all take part have room; at most one family day of
4 hours per child). All changes go through the ordinary services, as the proper users, so
the demo exercises consent, permissions, audit and lead-time metrics end to end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from essence.domain.calendar import at_local, is_working_day
from essence.domain.case import Case
from essence.domain.geography import MUNICIPALITIES
from essence.domain.personnummer import synthetic_personnummer
from essence.domain.states import StepState
from essence.domain.team import Clinician
from essence.services import cases as case_service
from essence.services import steps as step_service
from essence.services.context import ServiceContext, run_use_case
from essence.services.reporting import ReportView, report
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
FAMILY_DAY_MINUTES = 240
FAMILY_NOTICE_DAYS = 7  # families are booked at least a week ahead
STAFF_NOTICE_DAYS = 2  # staff-only steps (records, conference, report) within two days
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


@dataclass
class DemoResult:
    """What the demo produced: the report at the end and the counts along the way."""

    report: ReportView
    start: date
    end: date
    cases_opened: int
    steps_completed: int
    days_simulated: int
    load_minutes: dict[str, int] = field(default_factory=dict)


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
    completed = 0
    days = total_weeks * 7
    for offset in range(days):
        day = start + timedelta(days=offset)
        clock.now = at_local(day, 8)
        for referral in [r for r in cohort if r.referral.referral_date == day]:
            view = case_service.open_case(coordinator_ctx, referral.referral)
            if referral.consent_delay_days:
                due = day + timedelta(days=referral.consent_delay_days)
                pending_consent.setdefault(due, []).append(view.id)
        for case_id in pending_consent.pop(day, []):
            case_service.record_consent(coordinator_ctx, case_id, 2)
        advance_waiting_steps(ctx)
        if is_working_day(day):
            completed += _work_one_day(ctx, clock, day, team)
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
        load_minutes=final.cohort.minutes_by_profession,
    )


def _work_one_day(
    ctx: ServiceContext, clock: SimulatedClock, day: date, team: list[Clinician]
) -> int:
    """Earliest-available policy for one day: do ready steps, oldest first, where all
    assignees have minutes left and the family has not used up its day."""
    open_cases = run_use_case(
        ctx.as_system(), "demo.plan", lambda uow, _u: uow.cases.list(open_only=True)
    )
    minutes_left = {c.id: c.minutes_on(day) for c in team}
    family_left: dict[str, int] = {}
    used: dict[str, int] = dict.fromkeys(minutes_left, 0)
    done = 0
    for case, key in _ready_steps_oldest_first(open_cases, day):
        definition = case.definition(key)
        assignees = sorted(set(case.steps[key].assignees.values()))
        if definition.is_waiting or not assignees:
            continue
        if any(minutes_left.get(cid, 0) < definition.minutes for cid in assignees):
            continue
        if definition.family_facing:
            if family_left.get(case.id, FAMILY_DAY_MINUTES) < definition.minutes:
                continue
            family_left[case.id] = family_left.get(case.id, FAMILY_DAY_MINUTES) - definition.minutes
        for cid in assignees:
            minutes_left[cid] -= definition.minutes
        actor = assignees[0]
        clock.now = at_local(day, 8) + timedelta(minutes=used[actor])
        used[actor] += definition.minutes
        step_service.complete_step(ctx.as_user(actor), case.id, key, "done (demo)")
        done += 1
    return done


def _notice_days(case: Case, key: str) -> int:
    definition = case.definition(key)
    return FAMILY_NOTICE_DAYS if definition.family_facing else STAFF_NOTICE_DAYS


def _ready_steps_oldest_first(open_cases: list[Case], day: date) -> list[tuple[Case, str]]:
    ready = [
        (case, key)
        for case in open_cases
        for key, step in case.steps.items()
        if step.state is StepState.READY
        and step.ready_on is not None
        and (day - step.ready_on).days >= _notice_days(case, key)
    ]
    ready.sort(
        key=lambda item: (
            item[0].steps[item[1]].ready_on,
            item[0].referral_date,
            item[0].id,
            item[1],
        )
    )
    return ready
