"""Lead-time reports and the guardian's audit extract.

Planners get aggregates only (counts under 5 suppressed); coordinators also get the case
lines without names or personnummer.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from pydantic import BaseModel

from essence.domain.access import Role, User, require_role
from essence.domain.calendar import local_date
from essence.domain.geography import municipality
from essence.domain.metrics import (
    BASELINE_DAYS,
    GUARANTEE_DAYS,
    CaseMetrics,
    CohortMetrics,
    case_metrics,
    cohort_metrics,
    suppressed,
    suppressed_breakdown,
)
from essence.services.context import ServiceContext, audit_cases, run_use_case
from essence.services.ports import UnitOfWork
from essence.services.views import AuditLine


class CaseLine(BaseModel):
    """One case in the report (coordinators only; no name or personnummer)."""

    case_id: str
    state: str
    municipality: str
    referral_date: date
    lead_time_days: int | None
    projected_feedback: date | None
    projected_lead_time_days: int | None
    days_saved: int | None
    visit_days: int
    days_to_first_visit: int | None
    at_risk_90: bool
    at_risk_140: bool


class ReportView(BaseModel):
    """The lead-time report against the 140-day baseline."""

    as_of: date
    baseline_days: int
    guarantee_days: int
    cohort: CohortMetrics
    by_group: dict[str, CohortMetrics]
    by_gender: dict[str, CohortMetrics]
    cases: list[CaseLine]


def report(
    ctx: ServiceContext, *, referred_from: date | None = None, referred_to: date | None = None
) -> ReportView:
    """Lead-time figures per cohort (and per case for coordinators) as of today.

    Args:
        referred_from, referred_to: Restrict the cohort to referrals in this range (inclusive).
    """

    def body(uow: UnitOfWork, user: User) -> ReportView:
        require_role(user, "see the lead-time report", Role.COORDINATOR, Role.PLANNER)
        today = local_date(ctx.clock())
        cases = [
            c
            for c in uow.cases.list()
            if (referred_from is None or c.referral_date >= referred_from)
            and (referred_to is None or c.referral_date <= referred_to)
        ]
        metrics = [case_metrics(c, today) for c in cases]
        planner = user.role is Role.PLANNER
        lines = [] if planner else [case_line(m) for m in metrics]
        if not planner:
            audit_cases(ctx, uow, user, "report", [c.id for c in cases])
        groups = _grouped(metrics)
        return ReportView(
            as_of=today,
            baseline_days=BASELINE_DAYS,
            guarantee_days=GUARANTEE_DAYS,
            cohort=_cohort(metrics, planner),
            by_group=_breakdown(groups["group"]),
            by_gender=_breakdown(groups["gender"]),
            cases=lines,
        )

    return run_use_case(ctx, "report", body)


def _grouped(metrics: list[CaseMetrics]) -> dict[str, dict[str, list[CaseMetrics]]]:
    out: dict[str, dict[str, list[CaseMetrics]]] = {
        "group": defaultdict(list),
        "gender": defaultdict(list),
    }
    for m in metrics:
        out["group"][municipality(m.municipality).group].append(m)
        out["gender"][m.gender].append(m)
    return {k: dict(sorted(v.items())) for k, v in out.items()}


def _breakdown(cells: dict[str, list[CaseMetrics]]) -> dict[str, CohortMetrics]:
    """Cohort figures per cell with complementary suppression (for every role)."""
    return suppressed_breakdown({k: cohort_metrics(v) for k, v in cells.items()})


def _cohort(metrics: list[CaseMetrics], suppress: bool) -> CohortMetrics:
    cohort = cohort_metrics(metrics)
    return suppressed(cohort) if suppress else cohort


def case_line(m: CaseMetrics) -> CaseLine:
    return CaseLine(
        case_id=m.case_id,
        state=m.state,
        municipality=m.municipality,
        referral_date=m.referral_date,
        lead_time_days=m.lead_time_days,
        projected_feedback=m.projected_feedback,
        projected_lead_time_days=m.projected_lead_time_days,
        days_saved=m.days_saved,
        visit_days=m.visit_days,
        days_to_first_visit=m.days_to_first_visit,
        at_risk_90=m.at_risk_90,
        at_risk_140=m.at_risk_140,
    )


def audit_extract(ctx: ServiceContext, case_id: str) -> list[AuditLine]:
    """The guardian's log extract: every access to the case (PDL), oldest first."""

    def body(uow: UnitOfWork, user: User) -> list[AuditLine]:
        require_role(user, "read the audit log", Role.COORDINATOR)
        uow.cases.get(case_id)
        lines = [
            AuditLine(
                at=e.at,
                user_id=e.user_id,
                role=e.role,
                action=e.action,
                outcome=e.outcome,
                detail=e.detail,
            )
            for e in uow.audit.for_case(case_id)
        ]
        audit_cases(ctx, uow, user, "audit.extract", [case_id])
        return lines

    return run_use_case(ctx, "audit.extract", body, case_id=case_id)
