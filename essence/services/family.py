"""Use cases of a family's needs: read them, and change them when the family asks.

The planner honours them as hard rules at the next plan (`essence schedule plan`); a
booked visit on a day the family can no longer come is released at once, in the same
transaction as the change, so no letter or calendar shows it meanwhile.
"""

from __future__ import annotations

import dataclasses
from datetime import date

from pydantic import BaseModel

from essence.domain.access import Role, User, require_case_access, require_role
from essence.domain.family import FamilyNeeds
from essence.services.bookings import release_days_the_family_cannot_come
from essence.services.context import ServiceContext, audit_cases, run_use_case
from essence.services.ports import UnitOfWork


class FamilyNeedsView(BaseModel):
    """A family's needs as plain data (API and `--json`)."""

    case_id: str
    blocked_weekdays: list[str]
    blocked_dates: list[date]
    interpreter_language: str
    interpreter_minutes: int
    preferred_site: str
    video_preferred: bool
    taken_into_account: list[str]
    released_steps: list[str] = []


def needs_view(case_id: str, needs: FamilyNeeds) -> FamilyNeedsView:
    """The view of one case's needs."""
    return FamilyNeedsView(
        case_id=case_id,
        blocked_weekdays=[d for d in needs.describe_weekdays().split(",") if d],
        blocked_dates=sorted(needs.blocked_dates),
        interpreter_language=needs.interpreter_language,
        interpreter_minutes=needs.interpreter_minutes,
        preferred_site=needs.preferred_site,
        video_preferred=needs.video_preferred,
        taken_into_account=needs.taken_into_account(),
    )


def family_needs(ctx: ServiceContext, case_id: str) -> FamilyNeedsView:
    """What one family needs (empty when nothing was asked for).

    Raises:
        NotFound: unknown case.
        PermissionDenied: unless the user takes part in the child's care.
    """

    def body(uow: UnitOfWork, user: User) -> FamilyNeedsView:
        case = uow.cases.get(case_id)
        require_case_access(user, case, f"see the family needs of case {case_id}")
        audit_cases(ctx, uow, user, "family.show", [case_id])
        return needs_view(case_id, uow.family_needs.get(case_id))

    return run_use_case(ctx, "family.show", body, case_id=case_id)


def update_family_needs(
    ctx: ServiceContext, case_id: str, *, clear: bool = False, **changes: object
) -> FamilyNeedsView:
    """Change what a family needs; fields not given keep their value.

    Args:
        case_id: The case.
        clear: Start from no needs at all before applying `changes`.
        changes: `FamilyNeeds` fields to set (blocked_weekdays, blocked_dates,
            interpreter_language, interpreter_minutes, preferred_site, video_preferred).

    Booked family-facing appointments on a day the new needs block are cancelled and
    their steps wait for the next plan (`released_steps` of the result); even inside the
    frozen window, since the family has said they cannot come.

    Raises:
        InvalidInput: a value that is not acceptable (nothing is written).
        NotFound: unknown case or site.
        PermissionDenied: unless a coordinator (or admin) acts.
    """

    def body(uow: UnitOfWork, user: User) -> FamilyNeedsView:
        require_role(user, "change the family needs", Role.COORDINATOR)
        case = uow.cases.get(case_id)
        current = FamilyNeeds() if clear else uow.family_needs.get(case_id)
        given = {k: v for k, v in changes.items() if v is not None}
        if given.get("interpreter_language") == "":
            given.setdefault("interpreter_minutes", 0)
        needs = dataclasses.replace(current, **given)
        uow.family_needs.put(case_id, needs)
        released = release_days_the_family_cannot_come(uow, case, needs, ctx.clock())
        detail = f"released {','.join(released)}" if released else ""
        audit_cases(ctx, uow, user, "family.update", [case_id], detail)
        view = needs_view(case_id, needs)
        view.released_steps = released
        return view

    return run_use_case(ctx, "family.update", body, case_id=case_id)
