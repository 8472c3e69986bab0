"""Scoring the twin like the simulator: the same cohort figures, side by side, with reasons.

The twin's cases become one `ReplicationResult` (lead times, visit days, km, utilisation per
profession, municipality, gender, age band), summarised by the simulator's own
`summarise_policy`, so both columns come from one piece of code, suppression included.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from statistics import mean

import numpy as np
from pydantic import BaseModel

from essence.domain.access import User
from essence.domain.case import Case
from essence.domain.case_invariants import case_violations
from essence.domain.states import StepState
from essence.domain.team import Clinician
from essence.scheduling.clinic_problem import Appointment
from essence.scheduling.travel import family_km, staff_km
from essence.services.capacity import PolicyReport
from essence.services.context import ServiceContext, run_use_case
from essence.services.ports import AppointmentStatus, UnitOfWork
from essence.services.twin import TwinRun
from essence.simulation.results import ReplicationResult
from essence.simulation.summary import equity_gap_days, summarise_policy

TARGET_DAYS = 90.0


class TwinActivity(BaseModel):
    """What the twin did (counts over the whole run, warm-up and cool-down included)."""

    days_simulated: int
    first_day: date
    last_day: date
    cases_opened: int
    cohort_children: int
    cohort_with_feedback: int
    appointments_held: int
    no_shows: int
    family_facing_due: int
    not_held_clinician_sick: int
    not_held_prerequisite_missing: int
    sick_days: int
    plans_cpsat: int
    plans_greedy: int
    not_scheduled_yet_per_plan: float
    consent_days_mean: float | None
    family_ready_to_visit_days_mean: float | None


class TwinChecks(BaseModel):
    """The honesty checks: planner findings over every plan, lifecycle invariants at the end."""

    planner_findings: int
    finding_examples: list[str]
    cases_checked: int
    invariant_violations: int
    violation_examples: list[str]


def score_twin(ctx: ServiceContext, run: TwinRun) -> tuple[PolicyReport, TwinActivity, TwinChecks]:
    """The twin's cohort figures (as the simulator reports them), activity and checks."""

    def body(uow: UnitOfWork, _user: User) -> tuple[list[Case], list[Appointment], list]:
        attended = uow.appointments.list(statuses=[AppointmentStatus.ATTENDED.value])
        return uow.cases.list(), attended, uow.clinicians.list(active_only=False)

    cases, held, team = run_use_case(ctx.as_system(), "twin.score", body)
    by_id = {c.id: c for c in cases}
    result = _replication_result(run, by_id, held, team)
    summary = summarise_policy(run.model, [result], TARGET_DAYS)
    summary["policy"] = "twin (essence engine)"
    summary["equity_gap_days"] = equity_gap_days(summary)
    report = PolicyReport.model_validate(summary)
    return report, _activity(run, by_id, result), _checks(run, cases, run.end)


def _replication_result(
    run: TwinRun, cases: dict[str, Case], held: list[Appointment], team: list[Clinician]
) -> ReplicationResult:
    model = run.model
    # children of the window whose referral arrived before the run ended (all of them,
    # unless the run was cut short with max_days)
    cohort = [c for c in run.children if c.in_cohort and c.index in run.case_ids]
    held_by_case: dict[str, list[Appointment]] = {}
    for appointment in held:
        held_by_case.setdefault(appointment.case_id, []).append(appointment)
    clinicians = {c.id: c for c in team}
    lead, completed, visits, fam, staff = [], [], [], [], []
    for child in cohort:
        case = cases.get(run.case_ids.get(child.index, ""))
        feedback = case.feedback_step.completed_on if case else None
        lead.append(((feedback or run.end) - child.referral_date).days)
        completed.append(feedback is not None)
        mine = held_by_case.get(case.id, []) if case else []
        visits.append(len({a.day for a in mine if a.family_facing and a.place.kind != "video"}))
        fam.append(family_km(child.municipality, mine))
        staff.append(staff_km(mine, clinicians))
    utilisation, pools = _utilisation(run, held, team)
    return ReplicationResult(
        policy="twin",
        replication=0,
        lead_days=np.asarray(lead, dtype=float),
        completed=np.asarray(completed, dtype=bool),
        municipality=np.asarray(
            [model.municipalities.index(c.municipality) for c in cohort], dtype=int
        ),
        boy=np.asarray([c.boy for c in cohort], dtype=bool),
        age_band=np.asarray([c.age_band for c in cohort], dtype=int),
        visit_days=np.asarray(visits, dtype=float),
        family_km=np.asarray(fam, dtype=float),
        staff_km=np.asarray(staff, dtype=float),
        queue_wait_days=np.zeros(len(cohort)),
        utilisation=utilisation,
        pool_utilisation=pools,
        queue_length=np.full(len(model.professions), math.nan),
        arrived=len(run.case_ids),
        finished=sum(1 for c in cases.values() if c.state.value == "closed"),
        in_system=sum(1 for c in cases.values() if c.state.is_open),
        events=run.work.done,
        end_day=float(run.days),
    )


def _utilisation(
    run: TwinRun, held: list[Appointment], team: list[Clinician]
) -> tuple[np.ndarray, np.ndarray]:
    """Booked minutes of held appointments / available roster minutes in the scored window,
    per profession and per team x profession (absences and holidays count as unavailable)."""
    model = run.model
    first = run.start + timedelta(days=math.ceil(run.window[0]))
    last = min(run.end, run.start + timedelta(days=math.ceil(run.window[1]) - 1))
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    bases = [model.scenario.teams[t].base for t in range(len(model.bases))]
    n_prof = len(model.professions)
    busy = np.zeros(len(bases) * n_prof)
    available = np.zeros(len(bases) * n_prof)
    pool = {
        c.id: _pool_index(bases, c.base) * n_prof + model.professions.index(c.profession.value)
        for c in team
        if c.profession.value in model.professions
    }
    for clinician in team:
        if clinician.id in pool:
            available[pool[clinician.id]] += sum(clinician.minutes_on(d) for d in days)
    for appointment in held:
        if first <= appointment.day <= last:
            for clinician_id in appointment.clinician_ids:
                busy[pool[clinician_id]] += appointment.minutes
    by_profession = busy.reshape(len(bases), n_prof).sum(axis=0) / np.maximum(
        available.reshape(len(bases), n_prof).sum(axis=0), 1
    )
    return by_profession, busy / np.maximum(available, 1)


def _pool_index(bases: list[str], base: str) -> int:
    return bases.index(base) if base in bases else 0


def _activity(run: TwinRun, cases: dict[str, Case], result: ReplicationResult) -> TwinActivity:
    cohort = [
        cases[run.case_ids[c.index]]
        for c in run.children
        if c.in_cohort and c.index in run.case_ids
    ]
    consent = [
        (c.consent.recorded_on - c.referral_date).days
        for c in cohort
        if c.consent.complete and c.consent.recorded_on
    ]
    waits = [
        (step.completed_on - step.ready_on).days
        for c in cohort
        for key, step in c.steps.items()
        if c.definition(key).family_facing
        and not c.definition(key).is_waiting
        and step.state is StepState.COMPLETED
        and step.completed_on
        and step.ready_on
    ]
    plans = run.plans_cpsat + run.plans_greedy
    return TwinActivity(
        days_simulated=run.days,
        first_day=run.start,
        last_day=run.end,
        cases_opened=len(run.case_ids),
        cohort_children=int(result.lead_days.size),
        cohort_with_feedback=int(result.completed.sum()),
        appointments_held=run.work.done,
        no_shows=run.work.no_shows,
        family_facing_due=run.work.family_facing,
        not_held_clinician_sick=run.work.clinician_sick,
        not_held_prerequisite_missing=run.work.not_ready,
        sick_days=run.sick_days,
        plans_cpsat=run.plans_cpsat,
        plans_greedy=run.plans_greedy,
        not_scheduled_yet_per_plan=round(run.unscheduled_steps / plans, 2) if plans else 0.0,
        consent_days_mean=round(mean(consent), 2) if consent else None,
        family_ready_to_visit_days_mean=round(mean(waits), 2) if waits else None,
    )


def _checks(run: TwinRun, cases: list[Case], today: date) -> TwinChecks:
    violations = [v for case in cases for v in case_violations(case, today)]
    return TwinChecks(
        planner_findings=run.findings,
        finding_examples=run.finding_examples,
        cases_checked=len(cases),
        invariant_violations=len(violations),
        violation_examples=violations[:5],
    )
