"""A state machine of imports and withdrawals: a referral opens at most one case, ever, and a
child has at most one open case; the database holds the same as the model (SQLite)."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import text

from essence import bootstrap
from essence.adapters.fhir import import_bundle
from essence.domain.errors import InvalidInput
from essence.domain.personnummer import synthetic_personnummer
from essence.services import cases
from tests.factories import FixedClock

FIXTURE = Path(__file__).parents[1] / "fixtures" / "fhir" / "referral-sorsele.json"
CHILDREN = [synthetic_personnummer(date(2022, 4, 18), serial).digits for serial in (11, 12, 13)]
REQUEST_PATH = "Bundle.entry[4].resource.identifier[0]"
NUMBER_PATH = "Bundle.entry[0].resource.identifier[0].value"


def bundle_for(child: int, request: int) -> str:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    data["entry"][0]["resource"]["identifier"][0]["value"] = CHILDREN[child]
    data["entry"][4]["resource"]["identifier"][0]["value"] = f"REMISS-{request}"
    return json.dumps(data)


class Imports(RuleBasedStateMachine):
    """Model: which child has an open case, which referral ids were ever imported."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.url = f"sqlite:///{self.folder.name}/essence.db"
        bootstrap.initialise(database_url=self.url, demo_team=True)
        clock = FixedClock(now=None)  # type: ignore[arg-type]
        clock.set(date(2026, 10, 5), 11)
        self.ctx = bootstrap.context(user_id="coord-1", database_url=self.url, clock=clock)
        self.open_case: dict[int, str] = {}
        self.imported: set[int] = set()

    def teardown(self) -> None:
        bootstrap._ENGINES.pop(self.url).dispose()
        self.folder.cleanup()

    @rule(child=st.integers(0, 2), request=st.integers(0, 3))
    def import_referral(self, child: int, request: int) -> None:
        try:
            view = import_bundle(self.ctx, bundle_for(child, request))
        except InvalidInput as error:
            expected = REQUEST_PATH if request in self.imported else NUMBER_PATH
            assert request in self.imported or child in self.open_case
            assert error.field == expected
            return
        assert request not in self.imported and child not in self.open_case
        self.open_case[child] = view.id
        self.imported.add(request)

    @rule(child=st.integers(0, 2))
    def withdraw(self, child: int) -> None:
        case_id = self.open_case.pop(child, None)
        if case_id is not None:
            cases.withdraw_case(self.ctx, case_id, "family moved")

    @invariant()
    def database_agrees_with_the_model(self) -> None:
        with self.ctx.uow_factory() as uow:
            session = uow.session  # type: ignore[attr-defined]
            origins = session.execute(text("SELECT count(*) FROM referral_origin")).scalar_one()
            open_cases = session.execute(
                text("SELECT count(*) FROM essence_case WHERE state NOT IN ('closed', 'withdrawn')")
            ).scalar_one()
        assert origins == len(self.imported)
        assert open_cases == len(self.open_case)


@pytest.mark.slow
def test_imports_keep_their_invariants() -> None:
    machine = Imports.TestCase
    machine.settings = settings(
        max_examples=8,
        stateful_step_count=8,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    machine().runTest()
