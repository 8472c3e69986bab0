"""Use cases of the coordinator: open a case, record each guardian's consent, assign, list,
show, withdraw. Bookings follow each change in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from essence.domain.access import Role, User, require_case_access, require_role
from essence.domain.calendar import local_date
from essence.domain.case import Case, Consent
from essence.domain.errors import DuplicateCase, InvalidInput, NotFound
from essence.domain.family import FamilyNeeds
from essence.domain.geography import municipality
from essence.domain.messages import N_
from essence.domain.personnummer import Personnummer
from essence.domain.professions import Profession
from essence.domain.states import StepState
from essence.domain.team import Clinician
from essence.services.bookings import follow_reassignment, reconcile_bookings
from essence.services.case_views import case_summary, case_view
from essence.services.context import (
    ServiceContext,
    audit_cases,
    audit_event,
    resolve_user,
    run_use_case,
)
from essence.services.ports import UnitOfWork
from essence.services.views import CaseSummary, CaseView

DEFAULT_PATHWAY = "essence-default"
T = TypeVar("T")


@dataclass(frozen=True)
class Referral:
    """What the coordinator types when opening a case (validated in `open_case`).

    Attributes:
        personnummer: The child's number as typed (validated, then stored; never logged).
        child_name: The child's name.
        municipality: Home municipality (one of the 15 in Västerbotten).
        referring_unit: Who referred (e.g. "BHV Ålidhem").
        referral_date: Day the referral arrived.
        guardians: Guardians with custody (1 = sole custody, or 2).
        consenting: How many of them have consented so far (guardians 1..N); 0 by
            default: opening a case records no consent unless it is given explicitly.
        pathway: Template name; the newest version is used and kept for the case's life.
        team_travels: The team visits the family's municipality instead of the reverse.
        assign: Explicit clinician per profession; the rest is assigned automatically.
        needs: What the family needs from the plan (blocked days, interpreter, site, video).
    """

    personnummer: str
    child_name: str
    municipality: str
    referring_unit: str
    referral_date: date
    guardians: int = 2
    consenting: int = 0
    pathway: str = DEFAULT_PATHWAY
    team_travels: bool = False
    assign: dict[Profession, str] = field(default_factory=dict)
    needs: FamilyNeeds = field(default_factory=FamilyNeeds)


def open_case(ctx: ServiceContext, referral: Referral) -> CaseView:
    """Open a case from a referral, assign its steps and (with consent) make first steps ready.

    Two coordinators opening the same child at once get one case: the database allows one
    open case per child, and the other gets a `DuplicateCase` error, which is audited.

    Raises:
        InvalidInput: bad personnummer, municipality, date in the future, age not 0–17.
        DuplicateCase: the child already has an open case.
        NotFound: unknown pathway or clinician.
        PermissionDenied: unless a coordinator (or admin) acts.
    """

    def body(uow: UnitOfWork, user: User) -> CaseView:
        case = open_case_in(ctx, uow, user, referral)
        audit_cases(ctx, uow, user, "case.open", [case.id])
        return case_view(case, local_date(ctx.clock()))

    return run_opening(ctx, "case.open", referral, body)


def open_case_in(ctx: ServiceContext, uow: UnitOfWork, user: User, referral: Referral) -> Case:
    """Open a case inside a running unit of work (`case open` and the FHIR import share it).

    Raises:
        InvalidInput, DuplicateCase, NotFound, PermissionDenied: as `open_case`.
    """
    now = ctx.clock()
    pnr = Personnummer.parse(referral.personnummer, today=local_date(now))
    home = municipality(referral.municipality).name
    consent = Consent.given_by(
        referral.guardians, referral.consenting, referral.referral_date, ctx.user_id or ""
    )
    require_role(user, "open a case", Role.COORDINATOR)
    duplicate = uow.cases.exists_with_personnummer(pnr.digits)
    if duplicate:
        raise DuplicateCase(duplicate)
    template = uow.pathways.get(referral.pathway)
    case = Case.open(
        case_id=ctx.id_factory(),
        personnummer=pnr,
        child_name=referral.child_name,
        municipality=home,
        referring_unit=referral.referring_unit,
        referral_date=referral.referral_date,
        template=template,
        consent=consent,
        now=now,
        team_travels=referral.team_travels,
    )
    assign_automatically(
        case, uow.clinicians.list(), uow.cases.open_minutes_by_clinician(), referral.assign
    )
    uow.cases.add(case)
    if not referral.needs.is_empty:
        uow.family_needs.put(case.id, referral.needs)
    return case


def run_opening(
    ctx: ServiceContext,
    action: str,
    referral: Referral,
    body: Callable[[UnitOfWork, User], T],
) -> T:
    """Run a use case that opens a case; a refused duplicate (one open case per child) is
    audited in a transaction of its own, as the refused change was rolled back."""
    try:
        return run_use_case(ctx, action, body)
    except DuplicateCase as refused:
        digits = Personnummer.parse(referral.personnummer, today=local_date(ctx.clock())).digits
        raise _audit_duplicate(ctx, action, digits, refused) from None


def _audit_duplicate(
    ctx: ServiceContext, action: str, digits: str, refused: DuplicateCase
) -> DuplicateCase:
    """Record the refused duplicate in the audit log; returns the error naming the case."""
    with ctx.uow_factory() as uow:
        user = resolve_user(ctx, uow)
        existing = refused.existing_case_id or uow.cases.exists_with_personnummer(digits)
        uow.audit.record(
            [audit_event(ctx, user, action, existing, "refused", "duplicate open case")]
        )
        uow.commit()
    return DuplicateCase(existing)


def assign_automatically(
    case: Case,
    team: list[Clinician],
    open_minutes: dict[str, int],
    explicit: dict[Profession, str] | None = None,
) -> None:
    """Give each profession's part of every step to one clinician (continuity for the child).

    Explicit choices win; otherwise the clinician of that profession with the fewest open
    assigned minutes is chosen (ties by id). Professions nobody in the team has stay
    unassigned and show as "unassigned" in what the case waits on.

    Raises:
        NotFound: an explicitly named clinician is not in the team.
        InvalidInput: an explicitly named clinician has another profession.
    """
    chosen: dict[Profession, str] = {}
    by_id = {c.id: c for c in team}
    for profession, clinician_id in (explicit or {}).items():
        clinician = by_id.get(clinician_id)
        if clinician is None:
            raise NotFound("clinician", clinician_id)
        if clinician.profession is not profession:
            raise InvalidInput(
                "assign",
                clinician_id,
                N_(
                    "is a %(profession)s, not a %(needed)s",
                    profession=clinician.profession.value,
                    needed=profession.value,
                ),
            )
        chosen[profession] = clinician_id
    for profession in case.template.professions_needed():
        if profession in chosen:
            continue
        candidates = [c for c in team if c.profession is profession and c.active]
        if candidates:
            best = min(candidates, key=lambda c: (open_minutes.get(c.id, 0), c.id))
            chosen[profession] = best.id
    for definition in case.template.steps:
        for profession in definition.professions:
            if profession in chosen:
                case.assign(definition.key, profession, chosen[profession])
                open_minutes[chosen[profession]] = (
                    open_minutes.get(chosen[profession], 0) + definition.minutes
                )


def record_guardian_consent(
    ctx: ServiceContext,
    case_id: str,
    guardian: int,
    given: bool,
    on: date | None = None,
    guardians: int | None = None,
) -> CaseView:
    """Record one guardian's consent given or withdrawn (coordinators only).

    Full consent makes the first steps ready or resumes a paused case; a withdrawal pauses
    a working case (no step may start) and cancels its booked appointments at once.

    Args:
        case_id: The case.
        guardian: 1 or 2.
        given: True for consent given, False for withdrawn.
        on: The day the guardian said so (default today; not in the future, not before the
            referral).
        guardians: Guardians with custody when it changes (1 = sole custody).

    Raises:
        InvalidInput: a bad guardian number or date.
        IllegalTransition: the case is closed or withdrawn.
    """

    def change(case: Case, today: date, user: User) -> str:
        day = _consent_day(case, on, today)
        return case.record_guardian_consent(
            guardian, given, day, user.id, now=ctx.clock(), guardians=guardians
        )

    word = "given" if given else "withdrawn"
    return _consent_use_case(ctx, case_id, change, f"guardian {guardian} {word}")


def record_consent(
    ctx: ServiceContext, case_id: str, consenting: int, guardians: int | None = None
) -> CaseView:
    """Shorthand: guardians 1..`consenting` have consented today; any other guardian who
    had consented has withdrawn (so `--consenting 1` after both pauses the case)."""

    def change(case: Case, today: date, user: User) -> str:
        return case.record_consent(consenting, today, guardians, user.id)

    return _consent_use_case(ctx, case_id, change, f"{consenting} consenting")


def _consent_use_case(ctx: ServiceContext, case_id: str, change: object, detail: str) -> CaseView:
    def body(uow: UnitOfWork, user: User) -> CaseView:
        require_role(user, "record consent", Role.COORDINATOR)
        case = uow.cases.get(case_id)
        today = local_date(ctx.clock())
        effect = change(case, today, user)  # type: ignore[operator]
        reconcile_bookings(uow, case, ctx.clock())
        uow.cases.save(case)
        note = f"{detail}; {case.consent.describe()}" + (f"; case {effect}" if effect else "")
        audit_cases(ctx, uow, user, "case.consent", [case.id], note)
        return case_view(case, today)

    return run_use_case(ctx, "case.consent", body, case_id=case_id)


def _consent_day(case: Case, on: date | None, today: date) -> date:
    day = on or today
    if day > today:
        raise InvalidInput("date", day.isoformat(), N_("lies in the future"))
    if day < case.referral_date:
        raise InvalidInput("date", day.isoformat(), N_("is before the referral"))
    return day


def show_case(ctx: ServiceContext, case_id: str) -> CaseView:
    """One case in full, for its coordinator or a clinician who takes part in it."""

    def body(uow: UnitOfWork, user: User) -> CaseView:
        case = uow.cases.get(case_id)
        require_case_access(user, case, f"see case {case_id}")
        audit_cases(ctx, uow, user, "case.show", [case.id])
        return case_view(case, local_date(ctx.clock()))

    return run_use_case(ctx, "case.show", body, case_id=case_id)


def list_cases(
    ctx: ServiceContext,
    *,
    open_only: bool = True,
    municipality_name: str | None = None,
    at_risk_only: bool = False,
    waiting_on: Profession | None = None,
) -> list[CaseSummary]:
    """Cases with progress and risk: all for coordinators, one's own for clinicians.

    Args:
        open_only: Leave out closed and withdrawn cases.
        municipality_name: Only cases from this home municipality.
        at_risk_only: Only open cases projected past 90 or 140 days.
        waiting_on: Only cases with a ready, started or held step for this profession.
    """
    home = municipality(municipality_name).name if municipality_name else None

    def body(uow: UnitOfWork, user: User) -> list[CaseSummary]:
        require_role(user, "list cases", Role.COORDINATOR, Role.CLINICIAN)
        ids = (  # the cases in which the clinician has a step (takes part)
            uow.cases.ids_for_clinician(user.clinician_id or "")
            if user.role is Role.CLINICIAN
            else None
        )
        cases = uow.case_lists.cases(open_only=open_only, ids=ids, municipality=home)
        if waiting_on is not None:
            cases = [c for c in cases if waits_on(c, waiting_on)]
        today = local_date(ctx.clock())
        rows = [case_summary(c, today) for c in cases]
        if at_risk_only:
            rows = [r for r in rows if r.at_risk_90 or r.at_risk_140]
        audit_cases(ctx, uow, user, "case.list", [r.id for r in rows])
        return rows

    return run_use_case(ctx, "case.list", body)


def waits_on(case: Case, profession: Profession) -> bool:
    """True when a step of `profession` can be worked on now (ready, started or held)."""
    active = (StepState.READY, StepState.IN_PROGRESS, StepState.ON_HOLD)
    return any(
        step.state in active and profession in case.definition(key).professions
        for key, step in case.steps.items()
    )


def withdraw_case(ctx: ServiceContext, case_id: str, reason: str) -> CaseView:
    """Withdraw a case (the family declines, moves away); its open steps are cancelled and
    its booked appointments cancelled at once."""

    def body(uow: UnitOfWork, user: User) -> CaseView:
        require_role(user, "withdraw a case", Role.COORDINATOR)
        case = uow.cases.get(case_id)
        case.withdraw(reason, ctx.clock())
        reconcile_bookings(uow, case, ctx.clock())
        uow.cases.save(case)
        audit_cases(ctx, uow, user, "case.withdraw", [case.id])
        return case_view(case, local_date(ctx.clock()))

    return run_use_case(ctx, "case.withdraw", body, case_id=case_id)


def assign_step(ctx: ServiceContext, case_id: str, step_key: str, clinician_id: str) -> CaseView:
    """Assign (or re-assign) a step's part for the clinician's profession to that clinician.

    A booked appointment of the step moves to the new clinician when they are free then
    (same day and time), otherwise it is released for the next plan.
    """

    def body(uow: UnitOfWork, user: User) -> CaseView:
        require_role(user, "assign a step", Role.COORDINATOR)
        case = uow.cases.get(case_id)
        clinician = uow.clinicians.get(clinician_id)
        case.assign(step_key, clinician.profession, clinician.id)
        team = {c.id: c for c in uow.clinicians.list()}
        booking = follow_reassignment(uow, case, step_key, team, ctx.clock())
        uow.cases.save(case)
        note = f"{step_key} -> {clinician_id}" + (f"; booking {booking}" if booking else "")
        audit_cases(ctx, uow, user, "step.assign", [case.id], note)
        return case_view(case, local_date(ctx.clock()))

    return run_use_case(ctx, "step.assign", body, case_id=case_id)
