"""Use case: open a case from a referral the region's record system sent (e.g. as FHIR).

The same rules as `case open` (valid personnummer or samordningsnummer, one open case per
child, a known municipality, coordinators only, audited) plus one of its own: a referral
(the sender's request identifier) opens at most one case. Nothing is written on an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from essence.domain.access import Role, User, require_role
from essence.domain.calendar import local_date
from essence.domain.errors import InvalidInput
from essence.domain.messages import N_
from essence.services.case_views import case_view
from essence.services.cases import Referral, open_case_in, run_opening
from essence.services.context import ServiceContext, audit_cases
from essence.services.ports import ReferralOrigin, UnitOfWork
from essence.services.views import CaseView

REQUEST_FIELD = "request identifier"


@dataclass(frozen=True)
class ImportedReferral:
    """A referral parsed from the region's message: the case fields and where it came from."""

    referral: Referral
    origin: ReferralOrigin


def import_referral(ctx: ServiceContext, imported: ImportedReferral) -> CaseView:
    """Open a case from an imported referral and keep its origin, in one transaction.

    Raises:
        InvalidInput: as `case open`, or field ``request identifier`` when this referral
            was imported before.
        NotFound, PermissionDenied: as `case open`.
    """
    origin = imported.origin

    def body(uow: UnitOfWork, user: User) -> CaseView:
        require_role(user, "import a referral", Role.COORDINATOR)
        earlier = uow.referral_origins.case_for_request(origin.request_system, origin.request_value)
        if earlier is not None:
            raise InvalidInput(
                REQUEST_FIELD,
                origin.request_value,
                N_("already imported as case %(case)s", case=earlier),
            )
        case = open_case_in(ctx, uow, user, imported.referral)
        uow.referral_origins.add(case.id, origin)
        audit_cases(ctx, uow, user, "case.import", [case.id], "referral from the region")
        return case_view(case, local_date(ctx.clock()))

    return run_opening(ctx, "case.import", imported.referral, body)
