"""Use case: a case's care plan as the region's record system needs it (read model).

The same access rules and audit as `case show` (coordinators, and clinicians who take part),
and the data an exporter needs to write it out (e.g. as a FHIR Bundle): the child's full
identity number for the receiving record, the referral's origin, bookings and clinicians.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from essence.domain.access import User, require_case_access
from essence.domain.calendar import local_date
from essence.services.case_views import case_view
from essence.services.context import ServiceContext, audit_cases, run_use_case
from essence.services.ports import ReferralOrigin, UnitOfWork
from essence.services.views import CaseView


class GuardianRef(BaseModel):
    """A guardian named in the imported referral."""

    name: str
    relationship: str


class OriginView(BaseModel):
    """The region's referral the case was imported from."""

    request_system: str
    request_value: str
    reason: str
    requester: str
    requester_identifier: str
    authored_at: datetime
    guardians: list[GuardianRef]


class ClinicianRef(BaseModel):
    """A clinician taking part, as a role in an organisation (no personal identifiers)."""

    id: str
    name: str
    profession: str
    organisation: str


class BookingRef(BaseModel):
    """One booked appointment of the case.

    Attributes:
        status: ``booked`` until the step is done (``fulfilled``), or the appointment's own
            status where the booking records one (``noshow``, ``cancelled``).
    """

    step_key: str
    record_id: int | None
    title: str
    start: datetime
    end: datetime
    clinician_ids: list[str]
    place_kind: str
    place_municipality: str
    family_facing: bool
    status: str


class CarePlanData(BaseModel):
    """Everything needed to send a case's care plan to the region's record system.

    Attributes:
        personnummer: The full number (for the receiving record only; never log it).
        coordination_number: True for a samordningsnummer.
    """

    case: CaseView
    personnummer: str
    coordination_number: bool
    birth_date: date
    gender: str
    origin: OriginView | None
    bookings: list[BookingRef]
    clinicians: list[ClinicianRef]
    exported_at: datetime


def care_plan_data(ctx: ServiceContext, case_id: str) -> CarePlanData:
    """A case's care plan for export, for its coordinator or a clinician taking part (audited).

    Raises:
        NotFound: no such case.
        PermissionDenied: a planner, or a clinician not taking part in the case.
    """

    def body(uow: UnitOfWork, user: User) -> CarePlanData:
        case = uow.cases.get(case_id)
        require_case_access(user, case, f"export case {case_id}")
        origin = uow.referral_origins.get(case.id)
        booked = uow.appointments.list(case_ids=[case.id], statuses=None)
        team = {c.id: c for c in uow.clinicians.list(active_only=False)}
        wanted = case.participants() | {c for a in booked for c in a.clinician_ids}
        audit_cases(ctx, uow, user, "case.export", [case.id])
        return CarePlanData(
            case=case_view(case, local_date(ctx.clock())),
            personnummer=case.personnummer.digits,
            coordination_number=case.personnummer.is_coordination_number,
            birth_date=case.birth_date,
            gender=case.gender,
            origin=_origin_view(origin) if origin else None,
            bookings=[
                BookingRef(
                    step_key=a.step_key,
                    record_id=a.record_id,
                    title=a.title,
                    start=a.start,
                    end=a.end,
                    clinician_ids=list(a.clinician_ids),
                    place_kind=a.place.kind,
                    place_municipality=a.place.municipality,
                    family_facing=a.family_facing,
                    status=booking_status(a, case.steps[a.step_key].state.value),
                )
                for a in booked
                if a.step_key in case.steps
            ],
            clinicians=[
                ClinicianRef(
                    id=c.id,
                    name=c.name,
                    profession=c.profession.value,
                    organisation=c.organisation.value,
                )
                for cid, c in sorted(team.items())
                if cid in wanted
            ],
            exported_at=ctx.clock(),
        )

    return run_use_case(ctx, "case.export", body, case_id=case_id)


def booking_status(appointment: object, step_state: str) -> str:
    """The appointment's status: its own where recorded, else from the step's state."""
    own = str(getattr(appointment, "status", "") or "")
    if own and own != "booked":
        return own
    if step_state == "completed":
        return "fulfilled"
    if step_state in ("cancelled", "entered-in-error"):
        return "cancelled"
    return "booked"


def _origin_view(origin: ReferralOrigin) -> OriginView:
    return OriginView(
        request_system=origin.request_system,
        request_value=origin.request_value,
        reason=origin.reason,
        requester=origin.requester,
        requester_identifier=origin.requester_identifier,
        authored_at=origin.authored_at,
        guardians=[GuardianRef(name=n, relationship=r) for n, r in origin.guardians],
    )
