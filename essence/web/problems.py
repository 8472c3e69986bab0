"""Errors as HTTP: each EssenceError class gets a status, the API answers a JSON problem.

A problem is ``{"type", "title", "status", "detail", "field"?}`` (RFC 9457 style). `type`,
`title`, `status` and `field` are for programs: English and stable in every language (`field`
is the name the engine uses, e.g. ``referral date``). `detail` is for people: English by
default (the error's own message, as the CLI prints it), Swedish when the request's
Accept-Language prefers Swedish (`api_language`); the language cookie of the pages does not
change the API. Validation and routing details stay English. No detail holds a personnummer.
"""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from essence.domain.errors import (
    ConcurrencyConflict,
    ConsentMissing,
    EssenceError,
    IllegalTransition,
    InfrastructureError,
    InvalidInput,
    NotFound,
    PathwayError,
    PermissionDenied,
)
from essence.web import errors_i18n
from essence.web.i18n import from_accept_language

PROBLEM_MEDIA_TYPE = "application/problem+json"
_STATUS: tuple[tuple[type[EssenceError], int, str], ...] = (
    (InvalidInput, 422, "Invalid input"),
    (PathwayError, 422, "Invalid pathway"),
    (NotFound, 404, "Not found"),
    (PermissionDenied, 403, "Forbidden"),
    (ConcurrencyConflict, 409, "Conflict"),
    (IllegalTransition, 409, "Not allowed in this state"),
    (ConsentMissing, 409, "Consent missing"),
    (InfrastructureError, 503, "Service unavailable"),
)
_TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class Problem(BaseModel):
    """A JSON problem: what went wrong, for people (detail) and programs (type, status)."""

    type: str
    title: str
    status: int
    detail: str
    field: str | None = None


def status_of(error: EssenceError) -> tuple[int, str]:
    """The HTTP status and title for an essence error (400 for any other kind)."""
    for kind, status, title in _STATUS:
        if isinstance(error, kind):
            return status, title
    return 400, "Bad request"


def problem(status: int, detail: str, field: str | None = None, title: str = "") -> Problem:
    """A problem for `status` with a readable detail."""
    title = title or _TITLES.get(status, "Error")
    slug = title.lower().replace(" ", "-")
    return Problem(type=f"/problems/{slug}", title=title, status=status, detail=detail, field=field)


def api_language(accept_language: str | None) -> str:
    """The language of an API problem's detail: Swedish only when the request prefers it."""
    return "sv" if from_accept_language(accept_language) == "sv" else "en"


def from_error(error: EssenceError, language: str = "en") -> Problem:
    """The problem for an essence error (InvalidInput names its field).

    Args:
        error: The error a use case raised.
        language: The language of `detail`: "en" gives the error's own message, another
            language the message of `essence.web.errors_i18n` in that language.
    """
    status, title = status_of(error)
    field = error.field if isinstance(error, InvalidInput) else None
    detail = str(error) if language == "en" else errors_i18n.message_in(error, language)
    return problem(status, detail, field, title)


def problem_response(item: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON response with the problem media type."""
    return JSONResponse(
        item.model_dump(exclude_none=True),
        status_code=item.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def from_validation(error: RequestValidationError) -> Problem:
    """The first request-validation error as a problem naming the field."""
    errors: list[Any] = list(error.errors())
    if not errors:
        return problem(422, "the request is not valid")
    first = errors[0]
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query")]
    field = ".".join(location) or "request"
    message = str(first.get("msg", "is not valid"))
    return problem(422, f"{field}: {message}", field)


def from_http(error: StarletteHTTPException) -> Problem:
    """A framework HTTP error (404 route, 405 method, 401, 429) as a problem."""
    detail = error.detail if isinstance(error.detail, str) else str(error.detail)
    return problem(error.status_code, detail)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": _TITLES[status]}
    for status in (401, 403, 404, 409, 422, 429, 503)
}
