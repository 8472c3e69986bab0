"""Flows for one case: intake of a referral, and advancing a case after a change."""

from __future__ import annotations

from datetime import date

from prefect import flow, task

from essence import bootstrap
from essence.services.cases import Referral, open_case
from essence.services.sweep import advance_case
from flows.retry import RETRY_DELAY_S, TRANSIENT_RETRIES, is_transient


@task(retries=TRANSIENT_RETRIES, retry_delay_seconds=RETRY_DELAY_S, retry_condition_fn=is_transient)
def open_case_task(referral: Referral, coordinator: str) -> str:
    """Open the case as the coordinator; returns the new case id (never personal data)."""
    return open_case(bootstrap.context(user_id=coordinator), referral).id


@flow(name="case-intake", log_prints=False)
def intake_flow(
    personnummer: str,
    child_name: str,
    municipality: str,
    referring_unit: str,
    referral_date: date,
    coordinator: str,
    consenting: int = 2,
    guardians: int = 2,
) -> str:
    """Open a case from a referral (e.g. from an e-referral integration); returns its id."""
    referral = Referral(
        personnummer=personnummer,
        child_name=child_name,
        municipality=municipality,
        referring_unit=referring_unit,
        referral_date=referral_date,
        guardians=guardians,
        consenting=consenting,
    )
    return open_case_task(referral, coordinator)


@task(retries=TRANSIENT_RETRIES, retry_delay_seconds=RETRY_DELAY_S, retry_condition_fn=is_transient)
def advance_case_task(case_id: str) -> list[str]:
    """Complete the case's waiting steps whose time has passed."""
    return advance_case(bootstrap.context(), case_id)


@flow(name="case-advance", log_prints=False)
def advance_flow(case_id: str) -> list[str]:
    """Bring one case up to date after a change; returns the waiting steps completed."""
    return advance_case_task(case_id)
