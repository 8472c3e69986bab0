"""Flows for one case: intake of a referral, and advancing a case after a change."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from prefect import flow, task

from essence import bootstrap
from essence.domain.errors import InvalidInput
from essence.services.cases import Referral, open_case
from essence.services.sweep import advance_case
from flows.retry import RETRY_DELAY_S, RETRY_JITTER_FACTOR, TRANSIENT_RETRIES, is_transient


@task(
    retries=TRANSIENT_RETRIES,
    retry_delay_seconds=RETRY_DELAY_S,
    retry_jitter_factor=RETRY_JITTER_FACTOR,
    retry_condition_fn=is_transient,
)
def open_case_task(referral: Referral, coordinator: str) -> str:
    """Open the case as the coordinator; returns the new case id (never personal data)."""
    return open_case(bootstrap.context(user_id=coordinator), referral).id


@flow(name="case-intake", log_prints=False)
def intake_flow(referral_file: str, coordinator: str) -> str:
    """Open a case from a referral file (JSON, e.g. dropped by an e-referral integration).

    The flow takes the file's path, not its content, so the child's personnummer and name
    never become Prefect parameters (which Prefect stores and shows); returns the case id.
    """
    return open_case_task(read_referral(Path(referral_file)), coordinator)


def read_referral(path: Path) -> Referral:
    """Parse a referral file: personnummer, child_name, municipality, referring_unit,
    referral_date (YYYY-MM-DD) and optionally guardians, consenting, team_travels."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["referral_date"] = date.fromisoformat(data["referral_date"])
        return Referral(**data)
    except FileNotFoundError:
        raise InvalidInput("referral file", path.name, "does not exist") from None
    except (ValueError, TypeError, KeyError) as error:
        reason = f"not a valid referral ({type(error).__name__})"
        raise InvalidInput("referral file", path.name, reason) from None


@task(
    retries=TRANSIENT_RETRIES,
    retry_delay_seconds=RETRY_DELAY_S,
    retry_jitter_factor=RETRY_JITTER_FACTOR,
    retry_condition_fn=is_transient,
)
def advance_case_task(case_id: str) -> list[str]:
    """Complete the case's waiting steps whose time has passed."""
    return advance_case(bootstrap.context(), case_id)


@flow(name="case-advance", log_prints=False)
def advance_flow(case_id: str) -> list[str]:
    """Bring one case up to date after a change; returns the waiting steps completed."""
    return advance_case_task(case_id)
