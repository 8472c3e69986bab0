"""Use case: the term follow-up report for the region (HLT goals and lead time), aggregates only.

For the children referred in a period: how many, the share with consent and with a SIP held,
lead time against 90 and 140 days, visit days, family kilometres and no-shows, overall and
by gender, age band and municipality group. Groups under 5 children are suppressed by the
domain's rule, for coordinators and planners alike, because the figures leave essence.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from essence.domain.access import Role, User, require_role
from essence.domain.calendar import local_date
from essence.domain.case import Case
from essence.domain.followup import (
    CONSENT_TARGET,
    SIP_TARGET,
    GroupFigures,
    Period,
    child_follow_up,
    follow_up,
)
from essence.domain.metrics import BASELINE_DAYS, GUARANTEE_DAYS, SUPPRESS_BELOW
from essence.domain.states import StepState
from essence.scheduling.travel import family_km
from essence.services.context import ServiceContext, audit_event, run_use_case
from essence.services.ports import UnitOfWork

#: Appointment statuses that count as the family not coming.
NO_SHOW_STATUSES = frozenset({"no_show", "no-show", "noshow"})


class GroupRow(BaseModel):
    """One row of the follow-up: a group's figures (None = suppressed or no data)."""

    group: str
    children: int | None
    consent_share: float | None
    sip_share: float | None
    with_feedback: int | None
    median_lead_time_days: float | None
    p90_lead_time_days: float | None
    share_within_90_days: float | None
    share_within_140_days: float | None
    median_days_saved: float | None
    visit_days_mean: float | None
    family_km_total: int | None
    family_km_mean: float | None
    no_shows: int | None
    suppressed: bool


class FollowUpView(BaseModel):
    """The term follow-up: overall row and one list of rows per breakdown."""

    period: str
    first_day: date
    last_day: date
    as_of: date
    baseline_days: int
    guarantee_days: int
    consent_target: float
    sip_target: float
    suppress_below: int
    overall: GroupRow
    breakdowns: dict[str, list[GroupRow]]


def follow_up_report(ctx: ServiceContext, period: Period) -> FollowUpView:
    """The follow-up of children referred within `period`, as of today (coordinators, planners).

    One child counts once: when a child was referred twice in the period, the later case
    is used. Family km and no-shows come from the appointment records.
    """

    def body(uow: UnitOfWork, user: User) -> FollowUpView:
        require_role(user, "see the term follow-up", Role.COORDINATOR, Role.PLANNER)
        today = local_date(ctx.clock())
        cases = _one_case_per_child([c for c in uow.cases.list() if period.covers(c.referral_date)])
        booked = uow.appointments.list(case_ids=[c.id for c in cases], statuses=None)
        children = []
        for case in cases:
            mine = [a for a in booked if a.case_id == case.id]
            held = [a for a in mine if _held(case, a)]
            children.append(
                child_follow_up(
                    case,
                    today,
                    family_km=family_km(case.municipality, held),
                    no_shows=sum(1 for a in mine if _status(a) in NO_SHOW_STATUSES),
                )
            )
        figures = follow_up(children)
        uow.audit.record([audit_event(ctx, user, "report.followup", None, "ok", period.label)])
        return FollowUpView(
            period=period.label,
            first_day=period.first,
            last_day=period.last,
            as_of=today,
            baseline_days=BASELINE_DAYS,
            guarantee_days=GUARANTEE_DAYS,
            consent_target=CONSENT_TARGET,
            sip_target=SIP_TARGET,
            suppress_below=SUPPRESS_BELOW,
            overall=_row("all", figures.overall),
            breakdowns={
                dimension: [_row(name, g) for name, g in groups.items()]
                for dimension, groups in figures.breakdowns.items()
            },
        )

    return run_use_case(ctx, "report.followup", body)


def _one_case_per_child(cases: list[Case]) -> list[Case]:
    latest: dict[str, Case] = {}
    for case in sorted(cases, key=lambda c: (c.referral_date, c.opened_at or c.referral_date)):
        latest[case.personnummer.digits] = case
    return sorted(latest.values(), key=lambda c: (c.referral_date, c.id))


def _status(appointment: object) -> str:
    """The appointment's own status where the booking records one ("" otherwise)."""
    return str(getattr(appointment, "status", "") or "")


def _held(case: Case, appointment: object) -> bool:
    """True when the family came: marked attended, or still booked for a completed step."""
    status = _status(appointment)
    if status == "attended":
        return True
    step = case.steps.get(getattr(appointment, "step_key", ""))
    return status == "booked" and step is not None and step.state is StepState.COMPLETED


def _row(name: str, g: GroupFigures) -> GroupRow:
    lt = g.lead_times
    return GroupRow(
        group=name,
        children=g.children,
        consent_share=g.consent_share,
        sip_share=g.sip_share,
        with_feedback=None if g.suppressed else lt.with_feedback,
        median_lead_time_days=lt.median_lead_time_days,
        p90_lead_time_days=lt.p90_lead_time_days,
        share_within_90_days=lt.share_within_90_days,
        share_within_140_days=g.share_within_140_days,
        median_days_saved=lt.median_days_saved,
        visit_days_mean=g.visit_days_mean,
        family_km_total=g.family_km_total,
        family_km_mean=g.family_km_mean,
        no_shows=g.no_shows,
        suppressed=g.suppressed,
    )
