"""Shared helpers of the operations tests: fill a database with the demo, dump its tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, inspect, text

from essence import bootstrap
from essence.domain.calendar import at_local
from essence.services.auth import issue_demo_passwords
from essence.services.demo import DEMO_START, SimulatedClock, run_demo


def fill_with_demo(url: str, *, children: int = 6, weeks: int = 6) -> None:
    """A small demo through the services: the team, cases, bookings, completions, passwords."""
    bootstrap.initialise(database_url=url, demo_team=True)
    clock = SimulatedClock(at_local(DEMO_START))
    ctx = bootstrap.context(database_url=url, clock=clock)
    run_demo(ctx, clock, children=children, referral_weeks=weeks // 2, total_weeks=weeks)
    issue_demo_passwords(ctx)


def dump_tables(engine: Engine, *, skip: tuple[str, ...] = ()) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (alembic_version included), in primary-key order."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        dumped: dict[str, list[dict[str, Any]]] = {}
        for table in sorted(inspector.get_table_names()):
            if table in skip:
                continue
            columns = [c["name"] for c in inspector.get_columns(table)]
            key = inspector.get_pk_constraint(table).get("constrained_columns") or columns
            order = ", ".join(f'"{c}"' for c in key)
            rows = connection.execute(text(f'SELECT * FROM "{table}" ORDER BY {order}'))
            dumped[table] = [dict(row._mapping) for row in rows]
    return dumped


def columns_of(engine: Engine) -> dict[str, set[str]]:
    """The columns of every table, by table."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        return {
            t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()
        }
