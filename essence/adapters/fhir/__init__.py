"""FHIR R4 at the border: referrals in (a transaction Bundle), care plans out (a Bundle).

`import_bundle` parses and validates a referral Bundle and opens the case through the
referral service; `export_bundle` builds the care plan from the service's read model.
Errors name the FHIRPath of the element (`InvalidInput.field`); nothing is written.
"""

from __future__ import annotations

from typing import Any

from essence.domain.calendar import local_date
from essence.domain.errors import InvalidInput
from essence.services.care_plans import care_plan_data
from essence.services.context import ServiceContext
from essence.services.referrals import import_referral
from essence.services.views import CaseView


def import_bundle(ctx: ServiceContext, raw: bytes | str) -> CaseView:
    """Open a case from a FHIR referral Bundle (JSON text).

    Raises:
        InvalidInput: with the element's path as field (bad JSON, structure, personnummer,
            municipality, duplicate case or referral).
        PermissionDenied: unless a coordinator acts.
    """
    from essence.adapters.fhir.referral_in import load_json, parse_referral

    parsed = parse_referral(load_json(raw), local_date(ctx.clock()))
    try:
        return import_referral(ctx, parsed.imported)
    except InvalidInput as error:
        raise parsed.locate(error) from None


def export_bundle(ctx: ServiceContext, case_id: str, base: str | None = None) -> dict[str, Any]:
    """The case's care plan as a FHIR Bundle (JSON data), with the access rules of `case show`.

    Args:
        base: The FHIR base URL of the entries' fullUrl (default: `essence web`'s address).
    """
    from essence.adapters.fhir.care_plan_out import DEFAULT_BASE, care_plan_bundle

    return care_plan_bundle(care_plan_data(ctx, case_id), base or DEFAULT_BASE)
