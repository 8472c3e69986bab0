"""The coordinator's overview: counts to act on, and finding a case while a parent is on the line.

Searching reads personal data, so every case a search returns is audited (`case.search`);
a search that finds nothing is audited too, without the words searched for.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel

from essence.domain.access import Role, User, require_role, takes_part
from essence.domain.calendar import local_date
from essence.domain.case import Case
from essence.domain.errors import InvalidInput
from essence.domain.messages import N_
from essence.domain.metrics import case_metrics
from essence.domain.personnummer import Personnummer
from essence.domain.states import CaseState, StepState
from essence.services.case_views import case_summary
from essence.services.context import ServiceContext, audit_cases, audit_event, run_use_case
from essence.services.ports import UnitOfWork
from essence.services.views import CaseSummary

MAX_HITS = 50
_NUMBER_LIKE = re.compile(r"^[\d\s+-]+$")
_OPEN_STEP = (StepState.READY, StepState.IN_PROGRESS, StepState.ON_HOLD)


class DashboardCounts(BaseModel):
    """What the coordinator's day starts with (open cases only).

    Attributes:
        open_cases: Open cases.
        at_risk_90: Projected past the 90-day care guarantee.
        at_risk_140: Projected past the 140-day (20-week) baseline.
        waiting_on_consent: Not every guardian's consent is on record yet.
        not_scheduled_yet: A step that staff can do now has no booked day.
        needs_review: A step was flagged for review after a correction (revert).
    """

    open_cases: int
    at_risk_90: int
    at_risk_140: int
    waiting_on_consent: int
    not_scheduled_yet: int
    needs_review: int


def _waits_on_consent(case: Case) -> bool:
    return case.consent.consenting < case.consent.guardians


def _not_scheduled(case: Case) -> bool:
    if case.state not in (CaseState.CONSENTED, CaseState.ASSESSING):
        return False
    return any(
        step.state in _OPEN_STEP
        and step.planned_on is None
        and not case.definition(key).is_waiting
        and case.definition(key).professions
        for key, step in case.steps.items()
    )


def _needs_review(case: Case) -> bool:
    return any(step.needs_review for step in case.steps.values())


def dashboard_counts(ctx: ServiceContext) -> DashboardCounts:
    """Counts of open cases to act on today (coordinators; not audited: no case is shown)."""

    def body(uow: UnitOfWork, user: User) -> DashboardCounts:
        require_role(user, "see the dashboard counts", Role.COORDINATOR)
        today = local_date(ctx.clock())
        cases = uow.cases.list(open_only=True)
        metrics = [case_metrics(c, today) for c in cases]
        return DashboardCounts(
            open_cases=len(cases),
            at_risk_90=sum(m.at_risk_90 for m in metrics),
            at_risk_140=sum(m.at_risk_140 for m in metrics),
            waiting_on_consent=sum(_waits_on_consent(c) for c in cases),
            not_scheduled_yet=sum(_not_scheduled(c) for c in cases),
            needs_review=sum(_needs_review(c) for c in cases),
        )

    return run_use_case(ctx, "case.counts", body)


def matches(case: Case, query: str, today: date) -> bool:
    """True when `query` names the case: a personnummer (any common format, or its birth
    date), a case-id prefix (with or without ``c-``), or words of the child's name."""
    text = query.strip()
    if not text:
        return False
    if _NUMBER_LIKE.match(text) and sum(ch.isdigit() for ch in text) >= 6:
        return _number_matches(case.personnummer.digits, text, today)
    lowered = text.casefold()
    if len(lowered) >= 3 and (
        case.id.startswith(lowered) or case.id.startswith("c-" + lowered.removeprefix("c-"))
    ):
        return True
    name = case.child_name.casefold()
    return all(word in name for word in lowered.split())


def _number_matches(stored: str, text: str, today: date) -> bool:
    digits = re.sub(r"\D", "", text)
    if len(digits) in (10, 12):
        try:
            return Personnummer.parse(text, today=today).digits == stored
        except InvalidInput:
            return False
    if len(digits) == 8:
        return stored[:8] == digits
    if len(digits) == 6:
        return stored[2:8] == digits
    return False


def search_cases(ctx: ServiceContext, query: str) -> list[CaseSummary]:
    """Cases (open first, then closed) whose child, personnummer or id matches `query`.

    Coordinators search every case; clinicians only the cases they take part in. Each hit is
    audited as `case.search`; the query itself is never stored (it may be a personnummer).

    Raises:
        InvalidInput: an empty query or one longer than 100 characters.
    """
    if not query.strip() or len(query) > 100:
        raise InvalidInput(
            "q", "", N_("type a name, a personnummer or a case id (1–100 characters)")
        )

    def body(uow: UnitOfWork, user: User) -> list[CaseSummary]:
        require_role(user, "search cases", Role.COORDINATOR, Role.CLINICIAN)
        today = local_date(ctx.clock())
        ids = (
            uow.cases.ids_for_clinician(user.clinician_id or "")
            if user.role is Role.CLINICIAN
            else None
        )
        found = [
            c
            for c in uow.cases.list(open_only=False, ids=ids)
            if matches(c, query, today) and (user.role is not Role.CLINICIAN or takes_part(user, c))
        ]
        found.sort(key=lambda c: (not c.state.is_open, c.child_name, c.id))
        found = found[:MAX_HITS]
        if found:
            audit_cases(ctx, uow, user, "case.search", [c.id for c in found])
        else:
            uow.audit.record([audit_event(ctx, user, "case.search", None, "ok", "no hits")])
        return [case_summary(c, today) for c in found]

    return run_use_case(ctx, "case.search", body)
