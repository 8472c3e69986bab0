"""Who may do what (Patient Data Act): roles, users and the access rules.

Coordinators see and change every case; clinicians only the cases they take part in and
only the steps assigned to them; planners only aggregates; admins manage the system.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from essence.domain.case import Case
from essence.domain.errors import InvalidInput, PermissionDenied
from essence.domain.messages import N_


class Role(StrEnum):
    """The roles a user can have."""

    COORDINATOR = "coordinator"
    CLINICIAN = "clinician"
    PLANNER = "planner"
    ADMIN = "admin"


@dataclass(frozen=True)
class User:
    """Someone acting on essence.

    Attributes:
        id: Login id (e.g. ``psy-1``); written to the audit log, so never personal data.
        role: What the user may do.
        clinician_id: The staff member behind a clinician or coordinator login, if any.
    """

    id: str
    role: Role
    clinician_id: str | None = None

    def __post_init__(self) -> None:
        if not self.id or not self.id.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise InvalidInput("user", self.id, N_("use letters, digits, '.', '-' and '_'"))


def require_role(user: User, action: str, *roles: Role) -> None:
    """Raise PermissionDenied unless the user has one of `roles` (admin always passes)."""
    if user.role is Role.ADMIN or user.role in roles:
        return
    allowed = tuple(r.value for r in roles)
    reason = N_("role %(role)s (needs %(roles)s)", role=user.role.value, roles=allowed)
    raise PermissionDenied(user.id, action, reason)


def takes_part(user: User, case: Case) -> bool:
    """True when the user is a clinician assigned to some step of the case."""
    return user.clinician_id is not None and user.clinician_id in case.participants()


def require_case_access(user: User, case: Case, action: str) -> None:
    """Raise PermissionDenied unless the user may see the identity and steps of `case`."""
    if user.role in (Role.COORDINATOR, Role.ADMIN):
        return
    if user.role is Role.CLINICIAN and takes_part(user, case):
        return
    reason = (
        N_("planners see aggregates only")
        if user.role is Role.PLANNER
        else N_("does not take part in case %(case)s", case=case.id)
    )
    raise PermissionDenied(user.id, action, reason)


def require_step_access(user: User, case: Case, step_key: str, action: str) -> None:
    """Raise PermissionDenied unless the user may change step `step_key` of `case`.

    Clinicians change only steps assigned to them; coordinators change any step (they
    record waiting steps such as returned questionnaires, and their own intake steps).
    """
    if user.role in (Role.COORDINATOR, Role.ADMIN):
        return
    step = case.step(step_key)
    if user.role is Role.CLINICIAN and user.clinician_id in step.assignees.values():
        return
    reason = N_(
        "step %(step)s of case %(case)s is not assigned to them", step=step_key, case=case.id
    )
    raise PermissionDenied(user.id, action, reason)
