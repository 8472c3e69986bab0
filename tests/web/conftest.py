"""Fixtures of the web tests: an initialised database with demo passwords, and signed-in clients.

Argon2 is made cheap here (the parameters travel inside each hash), so many sign-ins stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from essence import bootstrap
from essence.services import auth, cases
from essence.services.context import ServiceContext
from essence.services.views import CaseView
from essence.web.app import create_app
from tests.factories import FixedClock, referral

BASE_URL = "https://testserver"


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with small parameters: the same code path, milliseconds per hash."""
    monkeypatch.setattr(
        auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@dataclass
class Web:
    """An initialised database, its demo passwords and the app on it."""

    url: str
    clock: FixedClock
    passwords: dict[str, str]
    app: FastAPI
    ctx: ServiceContext

    def client(self, user_id: str | None = None) -> TestClient:
        """A TestClient over https (so Secure cookies travel), signed in as `user_id`."""
        client = TestClient(self.app, base_url=BASE_URL)
        if user_id is not None:
            csrf = sign_in(client, user_id, self.passwords[user_id])
            client.headers["X-CSRF-Token"] = csrf
        return client

    def open_case(self, **overrides: object) -> CaseView:
        """Open a case as coord-1 through the service (what the UI does)."""
        return cases.open_case(self.ctx, referral(**overrides))


def sign_in(client: TestClient, user_id: str, password: str) -> str:
    """Sign in through the API; returns the CSRF token."""
    response = client.post("/api/v1/session", json={"user_id": user_id, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def build_web(url: str, clock: FixedClock) -> Web:
    """Initialise `url` with the demo team and give every login a password."""
    bootstrap.initialise(database_url=url, demo_team=True)
    ctx = bootstrap.context(user_id="coord-1", database_url=url, clock=clock)
    passwords = auth.issue_demo_passwords(ctx)
    return Web(url, clock, passwords, create_app(url, clock=clock), ctx)


@pytest.fixture
def web(database_url: str, clock: FixedClock) -> Web:
    """The web app on SQLite and on PostgreSQL."""
    return build_web(database_url, clock)


@pytest.fixture
def sqlite_web(tmp_path_factory: pytest.TempPathFactory, clock: FixedClock) -> Iterator[Web]:
    """The web app on a SQLite file (for page and security tests)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'essence.db'}"
    yield build_web(url, clock)
    bootstrap._ENGINES.pop(url).dispose()
