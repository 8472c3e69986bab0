"""Lead-time metrics per case and per cohort, against the 20-week (140-day) baseline.

Lead time is the number of days from referral received to the feedback meeting held.
Cases still in progress get a projected feedback date from the critical path.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from essence.domain.case import Case
from essence.domain.states import CaseState, StepState
from essence.domain.suppression import SUPPRESS_BELOW, shown_count, suppressed_cells, too_small

BASELINE_DAYS = 140
GUARANTEE_DAYS = 90


@dataclass(frozen=True)
class CaseMetrics:
    """Figures for one case (no personal data: safe for planners' aggregates).

    Attributes:
        lead_time_days: Referral → feedback meeting, in days, once held.
        projected_feedback: Actual feedback date, or the projection along the critical path.
        projected_lead_time_days: Lead time using the projection when not yet held.
        days_saved: 140 minus the (projected) lead time; negative when over the baseline.
        days_to_first_visit: Referral → first day the family came, in days.
        days_to_assessment_start: Referral → first assessment step (vårdgaranti), in days.
        visit_days: Distinct days the family had to come.
        minutes_by_profession: Staff minutes of completed steps per profession.
        at_risk_90 / at_risk_140: Open case projected past 90 / 140 days.
        no_shows: Appointments the family missed (recorded with `step no-show`).
    """

    case_id: str
    state: str
    municipality: str
    gender: str
    referral_date: date
    feedback_date: date | None
    lead_time_days: int | None
    projected_feedback: date | None
    projected_lead_time_days: int | None
    days_saved: int | None
    percent_saved: float | None
    days_to_first_visit: int | None
    days_to_assessment_start: int | None
    visit_days: int
    minutes_by_profession: dict[str, int] = field(default_factory=dict)
    at_risk_90: bool = False
    at_risk_140: bool = False
    no_shows: int = 0


def project_finish_dates(case: Case, today: date) -> dict[str, date]:
    """Expected finish date of every step: actual when done, else along the DAG from today.

    Cancelled steps finish when cancelled (or today); open steps start no earlier than
    today, their ready date and their prerequisites' finish, and take their lead days.
    """
    template = case.template
    finish: dict[str, date] = {}
    for key in template.topological_order():
        step = case.steps[key]
        if step.state is StepState.COMPLETED and step.completed_on:
            finish[key] = step.completed_on
            continue
        if step.state.is_terminal:
            finish[key] = max([today, *(finish[p] for p in template.step(key).requires)])
            continue
        start = max(
            [today, step.ready_on or today, *(finish[p] for p in template.step(key).requires)]
        )
        if step.due_on is not None:
            finish[key] = max(step.due_on, today)
        elif step.planned_on is not None and step.planned_on >= start:
            finish[key] = step.planned_on
        else:
            finish[key] = start + timedelta(days=template.lead_days(key))
    return finish


@dataclass(frozen=True)
class Projection:
    """When a case's feedback meeting was or will be held, and its risk (what a case list
    shows; `case_metrics` has every figure).

    Attributes:
        feedback_date: The day the feedback meeting was held, if it was.
        projected_feedback: That day, or the projection along the critical path.
        projected_lead_time_days: Referral → (projected) feedback, in days.
        at_risk_90 / at_risk_140: Open case projected past 90 / 140 days.
    """

    feedback_date: date | None
    projected_feedback: date | None
    projected_lead_time_days: int | None
    at_risk_90: bool
    at_risk_140: bool


def case_projection(case: Case, today: date) -> Projection:
    """The feedback date of one case as of `today`, held or projected, and its risk."""
    feedback_date = case.feedback_step.completed_on
    projected: date | None = feedback_date
    if projected is None and case.state.is_open:
        projected = project_finish_dates(case, today)[case.template.feedback_key]
    projected_lead = (projected - case.referral_date).days if projected else None
    open_case = case.state in (CaseState.REFERRED, CaseState.CONSENTED, CaseState.ASSESSING)
    days = projected_lead if open_case and projected_lead is not None else 0
    return Projection(
        feedback_date=feedback_date,
        projected_feedback=projected,
        projected_lead_time_days=projected_lead,
        at_risk_90=days > GUARANTEE_DAYS,
        at_risk_140=days > BASELINE_DAYS,
    )


def case_metrics(case: Case, today: date) -> CaseMetrics:
    """Compute the lead-time figures of one case as of `today`."""
    projection = case_projection(case, today)
    feedback_date = projection.feedback_date
    lead = (feedback_date - case.referral_date).days if feedback_date else None
    projected_lead = projection.projected_lead_time_days
    saved = BASELINE_DAYS - projected_lead if projected_lead is not None else None
    family_days = _family_visit_dates(case)
    return CaseMetrics(
        case_id=case.id,
        state=case.state.value,
        municipality=case.municipality,
        gender=case.gender,
        referral_date=case.referral_date,
        feedback_date=feedback_date,
        lead_time_days=lead,
        projected_feedback=projection.projected_feedback,
        projected_lead_time_days=projected_lead,
        days_saved=saved,
        percent_saved=round(100 * saved / BASELINE_DAYS, 1) if saved is not None else None,
        days_to_first_visit=(min(family_days) - case.referral_date).days if family_days else None,
        days_to_assessment_start=_days_to_assessment_start(case),
        visit_days=len(family_days),
        minutes_by_profession=_minutes_by_profession(case),
        at_risk_90=projection.at_risk_90,
        at_risk_140=projection.at_risk_140,
        no_shows=sum(step.no_shows for step in case.steps.values()),
    )


def _family_visit_dates(case: Case) -> set[date]:
    dates: set[date] = set()
    for key, step in case.steps.items():
        definition = case.definition(key)
        if definition.family_facing and not definition.is_waiting and step.completed_on:
            dates.add(step.completed_on)
    return dates


def _days_to_assessment_start(case: Case) -> int | None:
    marked = [k for k in case.template.keys if case.definition(k).milestone == "assessment_start"]
    for key in marked:
        step = case.steps[key]
        moment = step.started_at or step.completed_at
        if moment is not None:
            return (moment.date() - case.referral_date).days
    return None


def _minutes_by_profession(case: Case) -> dict[str, int]:
    minutes: Counter[str] = Counter()
    for key, step in case.steps.items():
        if step.state is StepState.COMPLETED:
            definition = case.definition(key)
            for profession in definition.professions:
                minutes[profession.value] += definition.minutes
    return dict(sorted(minutes.items()))


@dataclass(frozen=True)
class CohortMetrics:
    """Aggregates over many cases; counts under 5 are suppressed by `suppressed()`.

    Counts are None where planners may not see them (1 to 4 children, or the complement
    that would let them be derived); see `essence.domain.suppression`.

    Attributes:
        cases: Number of cases (children) in the cohort.
        with_feedback: Cases whose feedback meeting has been held.
        median_lead_time_days / p90_lead_time_days / mean_lead_time_days: Over held feedbacks.
        share_within_90_days: Share of held feedbacks within 90 days of referral (0..1).
        median_days_saved: Median of 140 − lead time, in days.
        median_percent_saved: The same as a percentage of the 140-day baseline.
        median_days_to_first_visit: Referral → first family visit, in days.
        mean_visit_days: Mean distinct days the family had to come (finished cases).
        minutes_by_profession: Total staff minutes of completed steps per profession.
        at_risk_90 / at_risk_140: Open cases projected past 90 / 140 days.
        no_shows: Appointments families missed (None when suppressed).
    """

    cases: int | None
    with_feedback: int | None
    median_lead_time_days: float | None
    p90_lead_time_days: float | None
    mean_lead_time_days: float | None
    share_within_90_days: float | None
    median_days_saved: float | None
    median_percent_saved: float | None
    median_days_to_first_visit: float | None
    mean_visit_days: float | None
    minutes_by_profession: dict[str, int]
    at_risk_90: int | None
    at_risk_140: int | None
    suppressed: bool = False
    no_shows: int | None = 0


def cohort_metrics(metrics: list[CaseMetrics]) -> CohortMetrics:
    """Aggregate case metrics into cohort figures (median, p90, share within 90 days)."""
    leads = sorted(m.lead_time_days for m in metrics if m.lead_time_days is not None)
    saved = [BASELINE_DAYS - lead for lead in leads]
    first_visits = [m.days_to_first_visit for m in metrics if m.days_to_first_visit is not None]
    finished_visits = [m.visit_days for m in metrics if m.lead_time_days is not None]
    minutes: Counter[str] = Counter()
    for m in metrics:
        minutes.update(m.minutes_by_profession)
    median_saved = percentile(saved, 50)
    return CohortMetrics(
        cases=len(metrics),
        with_feedback=len(leads),
        median_lead_time_days=percentile(leads, 50),
        p90_lead_time_days=percentile(leads, 90),
        mean_lead_time_days=round(sum(leads) / len(leads), 1) if leads else None,
        share_within_90_days=(
            round(sum(1 for x in leads if x <= GUARANTEE_DAYS) / len(leads), 3) if leads else None
        ),
        median_days_saved=median_saved,
        median_percent_saved=(
            round(100 * median_saved / BASELINE_DAYS, 1) if median_saved is not None else None
        ),
        median_days_to_first_visit=percentile(first_visits, 50),
        mean_visit_days=(
            round(sum(finished_visits) / len(finished_visits), 2) if finished_visits else None
        ),
        minutes_by_profession=dict(sorted(minutes.items())),
        at_risk_90=sum(m.at_risk_90 for m in metrics),
        at_risk_140=sum(m.at_risk_140 for m in metrics),
        no_shows=sum(m.no_shows for m in metrics),
    )


def suppressed(cohort: CohortMetrics, *, hide: bool = False) -> CohortMetrics:
    """The cohort as planners may see it (decided on children counted).

    Fewer than 5 children, or `hide` (a complementary cell of a breakdown): every figure is
    None. Otherwise each count of 1 to 4 children is None, and the lead-time figures are None
    when fewer than 5 children have had their feedback meeting.
    """
    if hide or cohort.cases is None or too_small(cohort.cases) or cohort.cases == 0:
        return _hidden(cohort)
    with_feedback = shown_count(cohort.with_feedback or 0)
    lead_shown = (with_feedback or 0) >= SUPPRESS_BELOW
    return replace(
        cohort,
        with_feedback=with_feedback,
        median_lead_time_days=cohort.median_lead_time_days if lead_shown else None,
        p90_lead_time_days=cohort.p90_lead_time_days if lead_shown else None,
        mean_lead_time_days=cohort.mean_lead_time_days if lead_shown else None,
        share_within_90_days=cohort.share_within_90_days if lead_shown else None,
        median_days_saved=cohort.median_days_saved if lead_shown else None,
        median_percent_saved=cohort.median_percent_saved if lead_shown else None,
        mean_visit_days=cohort.mean_visit_days if lead_shown else None,
        at_risk_90=shown_count(cohort.at_risk_90 or 0),
        at_risk_140=shown_count(cohort.at_risk_140 or 0),
        suppressed=False,
    )


def suppressed_breakdown(cohorts: dict[str, CohortMetrics]) -> dict[str, CohortMetrics]:
    """A breakdown (cells that partition one cohort) as planners may see it.

    Whole cells are hidden by `suppressed_cells` over the children counted, and each count
    inside the cells (feedback held, at risk) by the same complementary rule, so no hidden
    figure can be recovered by subtracting the shown cells from the cohort's total.
    """
    hidden = suppressed_cells({k: c.cases or 0 for k, c in cohorts.items()})
    out = {k: suppressed(c, hide=k in hidden) for k, c in cohorts.items()}
    for name in ("with_feedback", "at_risk_90", "at_risk_140"):
        inner = suppressed_cells({k: getattr(c, name) or 0 for k, c in cohorts.items()})
        for key in inner:
            out[key] = _without(out[key], name)
    return out


def _without(cohort: CohortMetrics, name: str) -> CohortMetrics:
    if name != "with_feedback":
        return replace(cohort, **{name: None})
    return replace(
        cohort,
        with_feedback=None,
        median_lead_time_days=None,
        p90_lead_time_days=None,
        mean_lead_time_days=None,
        share_within_90_days=None,
        median_days_saved=None,
        median_percent_saved=None,
        mean_visit_days=None,
    )


def _hidden(cohort: CohortMetrics) -> CohortMetrics:
    return CohortMetrics(
        cases=None,
        with_feedback=None,
        median_lead_time_days=None,
        p90_lead_time_days=None,
        mean_lead_time_days=None,
        share_within_90_days=None,
        median_days_saved=None,
        median_percent_saved=None,
        median_days_to_first_visit=None,
        mean_visit_days=None,
        minutes_by_profession={},
        at_risk_90=None,
        at_risk_140=None,
        suppressed=True,
        no_shows=None,
    )


def percentile(values: list[int] | list[float], q: float) -> float | None:
    """The q-th percentile (0–100) with linear interpolation, as numpy's default; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 1)
