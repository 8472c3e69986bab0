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
