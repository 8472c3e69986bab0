"""Schemathesis against the generated OpenAPI schema: no 500s, every error is a JSON problem.

A bounded number of examples per operation keeps it under a minute; requests are signed in
as the coordinator (with the CSRF header) so the generated data reaches the services.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from essence import bootstrap
from essence.web.security import SESSION_COOKIE
from tests.factories import FixedClock
from tests.web.conftest import build_web

PROBLEM_KEYS = {"type", "title", "status", "detail"}


@pytest.fixture
def signed_in(
    tmp_path_factory: pytest.TempPathFactory, clock: FixedClock
) -> Iterator[tuple[object, dict[str, str]]]:
    """The app on a fresh SQLite file, a case in it, and headers of a coordinator's session."""
    url = f"sqlite:///{tmp_path_factory.mktemp('schema') / 'essence.db'}"
    web = build_web(url, clock)
    web.open_case()
    client = web.client("coord-1")
    headers = {
        "X-CSRF-Token": client.headers["X-CSRF-Token"],
        "Cookie": f"{SESSION_COOKIE}={client.cookies[SESSION_COOKIE]}",
    }
    yield web.app, headers
    bootstrap._ENGINES.pop(url).dispose()


def errors_are_problems(ctx: object, response: object, case: object) -> bool | None:
    """Every 4xx/5xx answer is a JSON problem with a non-empty message."""
    status = response.status_code  # type: ignore[attr-defined]
    if status < 400:
        return None
    content_type = response.headers.get("content-type", [""])  # type: ignore[attr-defined]
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if content_type.startswith("application/fhir+json"):  # FHIR routes answer OperationOutcomes
        outcome = response.json()  # type: ignore[attr-defined]
        assert outcome["resourceType"] == "OperationOutcome", outcome
        assert outcome["issue"] and outcome["issue"][0]["diagnostics"].strip(), outcome
        return True
    assert content_type.startswith("application/problem+json"), content_type
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"].strip(), body
    return True


def test_the_api_never_fails_with_500_and_answers_problems(
    signed_in: tuple[object, dict[str, str]],
) -> None:
    app, headers = signed_in
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    tested: list[str] = []
    statuses: set[int] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) == ("DELETE", "/api/v1/session"):
            continue  # signing out would end the session the other calls use

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            statuses.add(response.status_code)
            case.validate_response(response, checks=[not_a_server_error, errors_are_problems])

        call()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) >= 12, tested
    assert {200, 422} <= statuses, f"signed-in calls reach the services: {sorted(statuses)}"
