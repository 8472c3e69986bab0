"""One open case per child, enforced by the database: two coordinators opening the same
personnummer at the same moment get one case and one clear, audited error (SQLite and
PostgreSQL, real threads on real connections)."""

from __future__ import annotations

import threading
import time
from datetime import date

from sqlalchemy import text

from essence import bootstrap
from essence.adapters.pathway_files import default_template
from essence.domain.calendar import at_local
from essence.domain.case import Case, Consent
from essence.domain.errors import DuplicateCase, EssenceError
from essence.domain.personnummer import Personnummer
from essence.services import cases
from essence.services.context import ServiceContext
from tests.factories import personnummer, referral


def _race(ctx: ServiceContext, number: str) -> list[object]:
    """Open the same child from two threads released at the same instant."""
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def coordinator(slot: int) -> None:
        barrier.wait()
        try:
            results[slot] = cases.open_case(ctx, referral(personnummer=number))
        except EssenceError as error:
            results[slot] = error

    threads = [threading.Thread(target=coordinator, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_two_coordinators_opening_one_child_at_once_get_one_case(
    app_context: ServiceContext, database_url: str
) -> None:
    rounds = 4
    numbers = [personnummer().digits for _ in range(rounds)]
    refused = 0
    for number in numbers:
        results = _race(app_context, number)
        errors = [r for r in results if isinstance(r, EssenceError)]
        assert len(errors) == 1, results
        assert isinstance(errors[0], DuplicateCase)
        opened = next(r for r in results if not isinstance(r, EssenceError))
        message = str(errors[0])
        assert opened.id in message and number not in message  # type: ignore[attr-defined]
        refused += 1
    with bootstrap.engine_for(database_url).connect() as connection:
        open_cases = connection.execute(
            text("SELECT personnummer, count(*) FROM essence_case GROUP BY personnummer")
        ).all()
        audited = connection.execute(
            text(
                "SELECT count(*) FROM audit_event "
                "WHERE action = 'case.open' AND outcome = 'refused'"
            )
        ).scalar_one()
    assert sorted(count for _, count in open_cases) == [1] * rounds
    assert audited == refused


def test_the_database_refuses_a_second_open_case_even_past_the_check(
    app_context: ServiceContext,
) -> None:
    """Both units of work insert before either commits: the unique index decides."""
    number = Personnummer(personnummer().digits)
    template = default_template()
    now = at_local(date(2026, 3, 2), 10)
    inserted = threading.Event()
    outcome: dict[str, object] = {}

    def build(case_id: str) -> Case:
        return Case.open(
            case_id=case_id, personnummer=number, child_name="Testa Testsson",
            municipality="Umeå", referring_unit="BHV", referral_date=date(2026, 3, 2),
            template=template, consent=Consent.given_by(2, 2, date(2026, 3, 2)), now=now,
        )  # fmt: skip

    def first() -> None:
        with app_context.uow_factory() as uow:
            uow.cases.add(build("c-first00000"))
            inserted.set()
            time.sleep(0.5)
            uow.commit()

    def second() -> None:
        inserted.wait(30)
        try:
            with app_context.uow_factory() as uow:
                uow.cases.add(build("c-second0000"))
                uow.commit()
                outcome["second"] = "committed"
        except EssenceError as error:
            outcome["second"] = error

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert isinstance(outcome["second"], DuplicateCase), outcome["second"]
