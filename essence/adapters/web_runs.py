"""Background runs started from the web (capacity scenarios, re-plans) and their progress.

Kept in the `web_run` table, so whichever worker process answers a poll can show the run
another process is computing; a run not heard of for 15 minutes counts as abandoned.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlmodel import Session as DbSession

from models.web import WebRunRecord

ABANDONED_AFTER = timedelta(minutes=15)
KEEP_PER_OWNER = 20


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunState:
    """A run as pages show it.

    Attributes:
        id: Random hex id (in URLs; never derived from data).
        kind: 'capacity' or 'replan'.
        owner: Login id of the user who started it (only they may see it).
        done, total: Progress in the run's own units (replications; seconds of budget).
        result: The finished result as JSON text, if any.
        error: A message for people when the run failed.
        finished: True once result or error is there.
    """

    id: str
    kind: str
    owner: str
    done: int
    total: int
    result: str | None
    error: str
    finished: bool


@dataclass
class SqlRunStore:
    """Runs in the database; every method is one short transaction."""

    engine: Engine
    clock: Callable[[], datetime] = _utc_now

    def busy(self, kind: str) -> int:
        """Unfinished runs of `kind` heard of in the last 15 minutes (in any process)."""
        since = self.clock() - ABANDONED_AFTER
        with DbSession(self.engine) as db:
            query = (
                select(func.count())
                .select_from(WebRunRecord)
                .where(
                    WebRunRecord.kind == kind,
                    WebRunRecord.finished == False,  # noqa: E712 - SQL comparison
                    WebRunRecord.updated_at >= since,  # type: ignore[operator]
                )
            )
            return int(db.execute(query).scalar_one())

    def start(self, kind: str, owner: str, total: int) -> RunState:
        """Record a new run of `owner` (older runs beyond the last 20 of theirs are deleted)."""
        now = self.clock()
        row = WebRunRecord(
            id=secrets.token_hex(8),
            kind=kind,
            owner=owner,
            done=0,
            total=max(1, total),
            started_at=now,
            updated_at=now,
        )
        with DbSession(self.engine) as db:
            db.add(row)
            db.commit()
            old = db.execute(
                select(WebRunRecord.id)
                .where(WebRunRecord.owner == owner)
                .order_by(WebRunRecord.started_at.desc())  # type: ignore[attr-defined]
                .offset(KEEP_PER_OWNER)
            ).scalars()
            for run_id in list(old):
                stale = db.get(WebRunRecord, run_id)
                if stale is not None:
                    db.delete(stale)
            db.commit()
            return _state(row)

    def progress(self, run_id: str, done: int, total: int) -> None:
        """Record how far the run got."""
        self._update(run_id, done=min(done, max(1, total)), total=max(1, total))

    def finish(self, run_id: str, result: str) -> None:
        """Store the finished result (JSON text)."""
        self._update(run_id, result=result, finished=True)

    def fail(self, run_id: str, error: str) -> None:
        """Store a message for people; the run is finished."""
        self._update(run_id, error=error[:300], finished=True)

    def get(self, run_id: str) -> RunState | None:
        """The run, or None."""
        with DbSession(self.engine) as db:
            row = db.get(WebRunRecord, run_id)
            return _state(row) if row else None

    def _update(self, run_id: str, **values: object) -> None:
        with DbSession(self.engine) as db:
            row = db.get(WebRunRecord, run_id)
            if row is None:
                return
            for name, value in values.items():
                setattr(row, name, value)
            if row.done > row.total:
                row.done = row.total
            row.updated_at = self.clock()
            db.add(row)
            db.commit()


def _state(row: WebRunRecord) -> RunState:
    return RunState(
        row.id, row.kind, row.owner, row.done, row.total, row.result, row.error, row.finished
    )
