"""Use cases for the team: clinicians, absences and users."""

from __future__ import annotations

from pydantic import BaseModel

from essence.domain.access import Role, User, require_role
from essence.domain.errors import InvalidInput
from essence.domain.messages import N_
from essence.domain.professions import Profession
from essence.domain.team import Absence, Clinician
from essence.services.auth import hash_password
from essence.services.bookings import release_bookings_in_absence
from essence.services.context import ServiceContext, audit_cases, run_use_case
from essence.services.ports import UnitOfWork
from essence.services.views import ClinicianView


def add_clinician(
    ctx: ServiceContext, clinician: Clinician, *, with_login: bool = True
) -> ClinicianView:
    """Add a clinician to the team, and a login of the same id (coordinator or clinician role).

    Raises:
        PermissionDenied: unless the acting user is a coordinator or admin.
        InvalidInput: the id is taken.
    """

    def body(uow: UnitOfWork, user: User) -> ClinicianView:
        require_role(user, "add a clinician", Role.COORDINATOR)
        uow.clinicians.add(clinician)
        if with_login:
            role = (
                Role.COORDINATOR
                if clinician.profession is Profession.COORDINATOR
                else Role.CLINICIAN
            )
            uow.users.add(User(clinician.id, role, clinician.id))
        return _view(clinician, 0)

    return run_use_case(ctx, "clinician.add", body)


def list_clinicians(
    ctx: ServiceContext, profession: Profession | None = None
) -> list[ClinicianView]:
    """The active team with each member's open assigned minutes (any role may see staff)."""

    def body(uow: UnitOfWork, _user: User) -> list[ClinicianView]:
        load = uow.cases.open_minutes_by_clinician()
        team = uow.clinicians.list()
        return [_view(c, load.get(c.id, 0)) for c in team if profession in (None, c.profession)]

    return run_use_case(ctx, "clinician.list", body)


class AbsenceView(BaseModel):
    """What recording an absence did to the bookings.

    Attributes:
        released: "case/step" of the bookings released (beyond the frozen window): the
            next plan books them again without the absent clinician on those days.
        kept_frozen: "case/step" of bookings inside the frozen window (the family has
            been told): they stay, and the coordinator arranges cover.
    """

    clinician_id: str
    released: list[str] = []
    kept_frozen: list[str] = []


def add_absence(ctx: ServiceContext, clinician_id: str, absence: Absence) -> AbsenceView:
    """Record a clinician's absence (vacation, course, sick leave) and, in the same
    transaction, release their bookings on those days beyond the frozen window.

    Raises:
        NotFound: unknown clinician.
        PermissionDenied: unless a coordinator (or admin) acts.
    """

    def body(uow: UnitOfWork, user: User) -> AbsenceView:
        require_role(user, "record an absence", Role.COORDINATOR)
        uow.clinicians.add_absence(clinician_id, absence)
        released, kept = release_bookings_in_absence(uow, clinician_id, absence, ctx.clock())
        audit_cases(ctx, uow, user, "booking.release", sorted({r.split("/")[0] for r in released}))
        return AbsenceView(clinician_id=clinician_id, released=released, kept_frozen=kept)

    return run_use_case(ctx, "clinician.absence", body)


def add_user(
    ctx: ServiceContext,
    user_id: str,
    role: Role,
    clinician_id: str | None = None,
    password: str | None = None,
) -> User:
    """Create a login, with its password when given (both in one transaction).

    Raises:
        InvalidInput: a clinician login without a staff record, or a bad password length.
        PermissionDenied: unless the acting user is an admin.
    """
    new_user = User(user_id, role, clinician_id)
    if role is Role.CLINICIAN and clinician_id is None:
        raise InvalidInput("clinician", "", N_("a clinician login needs --clinician ID"))
    password_hash = hash_password(password) if password is not None else None

    def body(uow: UnitOfWork, user: User) -> User:
        require_role(user, "add a user")
        if clinician_id is not None:
            uow.clinicians.get(clinician_id)
        uow.users.add(new_user)
        if password_hash is not None:
            uow.users.set_password_hash(user_id, password_hash)
        return new_user

    return run_use_case(ctx, "user.add", body)


def list_users(ctx: ServiceContext) -> list[User]:
    """Every login with its role (admins only)."""

    def body(uow: UnitOfWork, user: User) -> list[User]:
        require_role(user, "list users")
        return uow.users.list()

    return run_use_case(ctx, "user.list", body)


def _view(clinician: Clinician, open_minutes: int) -> ClinicianView:
    return ClinicianView(
        id=clinician.id,
        name=clinician.name,
        profession=clinician.profession.value,
        organisation=clinician.organisation.value,
        base=clinician.base,
        weekly_minutes=clinician.roster.weekly_minutes,
        roster=clinician.roster.describe(),
        daily_cap_minutes=clinician.daily_cap_minutes,
        open_minutes=open_minutes,
    )
