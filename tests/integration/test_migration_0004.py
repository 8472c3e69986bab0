"""Migration 0004 carries a database over and back: consent per guardian, paused cases,
one open case per child, appointment status, skippable steps (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import inspect, text

from essence import bootstrap
from essence.adapters.pathway_files import default_template
from essence.services import cases, scheduling, steps
from models.types import AwareDateTime
from tests.factories import FixedClock, migrate, referral

CASE_OPENED = sa.table(
    "essence_case", sa.column("id", sa.String), sa.column("opened_at", AwareDateTime(timezone=True))
)


def _aware(value: datetime | str) -> datetime:
    """A raw ``opened_at`` as read by plain SQL (SQLite gives text, without zone) made aware."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _rows(database_url: str, sql: str) -> list:
    with bootstrap.engine_for(database_url).connect() as connection:
        return list(connection.execute(text(sql)))


def _execute(database_url: str, sql: str, **params: object) -> None:
    with bootstrap.engine_for(database_url).begin() as connection:
        connection.execute(text(sql), params)


def test_0004_carries_consent_bookings_and_duplicates_over_and_back(database_url: str) -> None:
    bootstrap.initialise(database_url=database_url, demo_team=True)
    clock = FixedClock(now=None)  # type: ignore[arg-type]
    clock.set(date(2026, 3, 2))
    ctx = bootstrap.context(user_id="coord-1", database_url=database_url, clock=clock)
    first = cases.open_case(ctx, referral()).id
    scheduling.plan_schedule(ctx, use_cpsat=False)
    steps.complete_step(ctx, first, "intake", "met")
    booked_before = _rows(
        database_url, f"SELECT count(*) FROM appointment WHERE case_id = '{first}'"
    )[0][0]
    assert booked_before > 1

    migrate(database_url, "0003")
    engine = bootstrap.engine_for(database_url)
    assert "consenting" in {c["name"] for c in inspect(engine).get_columns("essence_case")}
    assert "guardian_consent" not in inspect(engine).get_table_names()
    assert _rows(database_url, f"SELECT consenting FROM essence_case WHERE id = '{first}'") == [
        (2,)
    ]
    template = _rows(database_url, "SELECT content FROM pathway_template")[0][0]
    assert "skippable" not in template
    # The old schema allowed what the new one forbids: short consent on a working case and
    # a second open case of the same child.
    _execute(database_url, "UPDATE essence_case SET consenting = 1 WHERE id = :id", id=first)
    _execute(
        database_url,
        "INSERT INTO essence_case (id, personnummer, child_name, municipality, referring_unit, "
        "referral_date, template_id, guardians, consenting, consent_recorded_on, team_travels, "
        "state, opened_at, closed_at, withdrawn_reason, version) "
        "SELECT 'c-duplicate', personnummer, child_name, municipality, referring_unit, "
        "referral_date, template_id, guardians, 0, NULL, team_travels, 'referred', opened_at, "
        "NULL, '', 1 FROM essence_case WHERE id = :id",
        id=first,
    )
    # The duplicate was opened an hour after the first (ids are random, so only the opening
    # time decides which case the migration keeps).
    opened_first = _rows(database_url, f"SELECT opened_at FROM essence_case WHERE id = '{first}'")
    with bootstrap.engine_for(database_url).begin() as connection:
        connection.execute(
            CASE_OPENED.update()
            .where(CASE_OPENED.c.id == "c-duplicate")
            .values(opened_at=_aware(opened_first[0][0]) + timedelta(hours=1))
        )
    _execute(
        database_url,
        "INSERT INTO case_step (case_id, key, state, planned_place, completed_by, outcome, "
        "hold_reason) SELECT 'c-duplicate', key, 'requested', '', '', '', '' FROM case_step "
        "WHERE case_id = :id",
        id=first,
    )

    migrate(database_url, "head")
    assert _rows(
        database_url,
        f"SELECT guardian, status FROM guardian_consent WHERE case_id = '{first}' ORDER BY 1",
    ) == [(1, "given")]
    assert _rows(
        database_url, f"SELECT state, paused_from FROM essence_case WHERE id = '{first}'"
    ) == [("paused", "assessing")]
    assert _rows(database_url, "SELECT state FROM essence_case WHERE id = 'c-duplicate'") == [
        ("withdrawn",)
    ]
    assert _rows(
        database_url,
        "SELECT action, outcome FROM audit_event WHERE case_id = 'c-duplicate'",
    ) == [("case.withdraw", "ok")]
    statuses = dict(
        _rows(
            database_url,
            f"SELECT step_key, status FROM appointment WHERE case_id = '{first}'",
        )
    )
    assert statuses["intake"] == "attended"
    assert set(statuses.values()) == {"attended", "cancelled"}, "a paused case keeps no booking"
    fingerprint = _rows(database_url, "SELECT fingerprint FROM pathway_template")[0][0]
    assert fingerprint == default_template().fingerprint()
    view = cases.show_case(ctx, first)
    assert view.paused and view.consenting == 1
    # One open case per child is now the database's rule.
    resumed = cases.record_guardian_consent(ctx, first, 2, True)
    assert resumed.state == "assessing"
