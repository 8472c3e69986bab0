"""Errors as a FHIR OperationOutcome that names the element path (FHIRPath `expression`)."""

from __future__ import annotations

from typing import Any

from essence.domain.errors import (
    ConcurrencyConflict,
    EssenceError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)


def issue_code(error: EssenceError) -> str:
    """The FHIR issue-type code for an essence error."""
    if isinstance(error, InvalidInput):
        if "already" in error.reason:
            return "duplicate"
        return (
            "structure"
            if error.field.startswith("Bundle") and "JSON" in error.reason
            else "invalid"
        )
    if isinstance(error, NotFound):
        return "not-found"
    if isinstance(error, PermissionDenied):
        return "forbidden"
    if isinstance(error, ConcurrencyConflict):
        return "conflict"
    return "processing"


def operation_outcome(error: EssenceError) -> dict[str, Any]:
    """One error issue; `expression` holds the path when the error names an element."""
    issue: dict[str, Any] = {
        "severity": "error",
        "code": issue_code(error),
        "diagnostics": str(error),
    }
    if isinstance(error, InvalidInput):
        issue["expression"] = [error.field]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def success_outcome(text: str) -> dict[str, Any]:
    """An informational outcome (used in the transaction response)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": text}],
    }


def transaction_response(raw: bytes | str, case_id: str) -> dict[str, Any]:
    """The answer to an imported referral: one response per entry, in the request's order.

    Patient, ServiceRequest and the guardians become resources of the case (201 with their
    location, as the care-plan export names them); the Consent and the requester are folded
    into the case (200).
    """
    import json

    from essence.adapters.fhir.care_plan_out import fhir_id

    entries = json.loads(raw).get("entry") or []
    guardians = 0
    answers = []
    for entry in entries:
        kind = entry["resource"]["resourceType"]
        location = None
        if kind == "Patient":
            location = f"Patient/{fhir_id(case_id, 'patient')}"
        elif kind == "ServiceRequest":
            location = f"ServiceRequest/{fhir_id(case_id, 'referral')}"
        elif kind == "RelatedPerson":
            guardians += 1
            location = f"RelatedPerson/{fhir_id(case_id, 'guardian', str(guardians))}"
        response = (
            {"status": "201 Created", "location": location} if location else {"status": "200 OK"}
        )
        answers.append({"response": response})
    answers.append(
        {"response": {"status": "201 Created", "location": f"CarePlan/{fhir_id(case_id)}"}}
    )
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": answers}
