"""Cases worked to a known point, for follow-up figures with known answers."""

from __future__ import annotations

from datetime import date, timedelta

from essence.domain.calendar import at_local
from essence.domain.case import Case, Consent
from essence.domain.pathway import PathwayTemplate
from essence.domain.personnummer import synthetic_personnummer

SIP_STEP = "network_meeting"


def worked_case(
    case_id: str,
    template: PathwayTemplate,
    *,
    referral_date: date,
    birth: date,
    serial: int,
    municipality: str = "Umeå",
    lead_days: int | None = None,
    sip: bool = False,
    consenting: int = 2,
) -> Case:
    """A case referred on `referral_date` whose feedback was held after `lead_days` (None: not
    yet), with the SIP / network meeting held a week later when `sip`. Odd `serial` = boy."""
    case = Case.open(
        case_id=case_id,
        personnummer=synthetic_personnummer(birth, serial),
        child_name="Testa Testsson",
        municipality=municipality,
        referring_unit="BVC",
        referral_date=referral_date,
        template=template,
        consent=Consent.given_by(2, consenting, referral_date),
        now=at_local(referral_date, 9),
    )
    if lead_days is None or consenting < 2:
        return case
    feedback_day = referral_date + timedelta(days=lead_days)
    before = at_local(feedback_day - timedelta(days=1), 10)
    after_feedback = {template.feedback_key, "written_report", SIP_STEP}
    for key in template.topological_order():
        if key not in after_feedback:
            case.complete_step(key, before, "test")
    case.complete_step(template.feedback_key, at_local(feedback_day, 10), "test")
    case.complete_step("written_report", at_local(feedback_day, 14), "test")
    if sip:
        case.complete_step(SIP_STEP, at_local(feedback_day + timedelta(days=7), 10), "test")
    return case
