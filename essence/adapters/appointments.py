"""SQL repository of appointments; the scheduler's types load only when used.

Appointments are never deleted: a booking that is no longer wanted is cancelled (and its
iCalendar SEQUENCE raised), a held one is attended, a missed one a no-show, so calendars
and the family letter can be rebuilt from what is stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from essence.domain.calendar import STOCKHOLM, at_local
from essence.services.ports import AppointmentRepository, AppointmentStatus
from models.schedule import AppointmentRecord

if TYPE_CHECKING:
    from essence.scheduling.clinic_problem import Appointment

_ID_CHUNK = 500
BOOKED = AppointmentStatus.BOOKED.value


class SqlAppointmentRepository(AppointmentRepository):
    """Appointments stored one row each; at most one booked row per (case, step)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- reading ---------------------------------------------------------------------------

    def list(
        self,
        *,
        case_ids: Iterable[str] | None = None,
        first_day: date | None = None,
        last_day: date | None = None,
        statuses: Iterable[str] | None = (BOOKED,),
    ) -> list[Appointment]:
        rows = self._rows(case_ids, first_day, last_day, statuses, for_update=False)
        return [_from_row(r) for r in rows]

    def _rows(
        self,
        case_ids: Iterable[str] | None,
        first_day: date | None = None,
        last_day: date | None = None,
        statuses: Iterable[str] | None = (BOOKED,),
        step_keys: Iterable[str] | None = None,
        *,
        for_update: bool = True,
    ) -> list[AppointmentRecord]:
        """The matching rows in time order: ORM records to change (`for_update`), or plain
        rows with the same attributes to read (no identity map, several times cheaper)."""
        query = (
            select(AppointmentRecord)
            if for_update
            else select_rows(*AppointmentRecord.__table__.columns)  # type: ignore[attr-defined]
        )
        if first_day is not None:
            query = query.where(AppointmentRecord.day >= first_day)
        if last_day is not None:
            query = query.where(AppointmentRecord.day <= last_day)
        if statuses is not None:
            query = query.where(col(AppointmentRecord.status).in_([str(s) for s in statuses]))
        if step_keys is not None:
            query = query.where(col(AppointmentRecord.step_key).in_(list(step_keys)))
        fetch = self.session.exec if for_update else self.session.execute
        rows: list[AppointmentRecord] = []
        if case_ids is None:
            rows = list(fetch(query))  # type: ignore[call-overload]
        else:
            wanted = list(case_ids)
            for start in range(0, len(wanted), _ID_CHUNK):
                chunk = wanted[start : start + _ID_CHUNK]
                rows.extend(fetch(query.where(col(AppointmentRecord.case_id).in_(chunk))))  # type: ignore[call-overload]
        rows.sort(key=lambda r: (r.start, r.case_id, r.step_key, r.id or 0))
        return rows

    # --- writing ---------------------------------------------------------------------------

    def book(self, appointment: Appointment, now: datetime) -> None:
        self.session.add(_to_row(appointment, now))
        self.session.flush()

    def sync(self, case_id: str, wanted: Iterable[Appointment], now: datetime) -> int:
        current = {r.step_key: r for r in self._rows([case_id])}
        target = {a.step_key: a for a in wanted}
        changed = 0
        for key, row in current.items():
            new = target.get(key)
            if new is not None and _same_booking(row, new):
                continue
            if new is not None and tuple(_clinicians(row)) == tuple(new.clinician_ids):
                _move(row, new, now)
                self.session.add(row)
            else:
                _set_status(row, AppointmentStatus.CANCELLED, now)
                self.session.add(row)
            changed += 1
        self.session.flush()
        for key, new in target.items():
            row = current.get(key)
            if row is not None and row.status == BOOKED:
                continue
            self.session.add(_to_row(new, now))
            changed += 1
        self.session.flush()
        return changed

    def mark(
        self,
        case_id: str,
        step_key: str,
        status: AppointmentStatus,
        now: datetime,
        *,
        on: date | None = None,
    ) -> int:
        rows = self._rows([case_id], step_keys=[step_key])
        for row in rows:
            if on is not None and row.day != on:
                _shift_to(row, on)
            _set_status(row, status, now)
            self.session.add(row)
        self.session.flush()
        return len(rows)

    def cancel_booked(
        self, case_id: str, now: datetime, step_keys: Iterable[str] | None = None
    ) -> int:
        rows = self._rows([case_id], step_keys=step_keys)
        for row in rows:
            _set_status(row, AppointmentStatus.CANCELLED, now)
            self.session.add(row)
        self.session.flush()
        return len(rows)


def _clinicians(row: AppointmentRecord) -> list[str]:
    return [c for c in row.clinician_ids.split(",") if c]


def _same_booking(row: AppointmentRecord, appointment: Appointment) -> bool:
    return (
        row.day == appointment.day
        and row.start == appointment.start
        and row.end == appointment.end
        and tuple(_clinicians(row)) == tuple(appointment.clinician_ids)
        and row.place_kind == appointment.place.kind
        and row.place_municipality == appointment.place.municipality
    )


def _set_status(row: AppointmentRecord, status: AppointmentStatus, now: datetime) -> None:
    row.status = status.value
    row.sequence += 1
    row.changed_at = now


def _move(row: AppointmentRecord, appointment: Appointment, now: datetime) -> None:
    row.day, row.start, row.end = appointment.day, appointment.start, appointment.end
    row.place_kind = appointment.place.kind
    row.place_municipality = appointment.place.municipality
    row.title = appointment.title
    row.family_facing = appointment.family_facing
    row.sequence += 1
    row.changed_at = now


def _shift_to(row: AppointmentRecord, day: date) -> None:
    start = row.start.astimezone(STOCKHOLM)
    length = row.end - row.start
    row.day = day
    row.start = at_local(day, start.hour, start.minute)
    row.end = row.start + length if length > timedelta(0) else row.start + timedelta(minutes=1)


def _to_row(appointment: Appointment, now: datetime) -> AppointmentRecord:
    return AppointmentRecord(
        case_id=appointment.case_id,
        step_key=appointment.step_key,
        title=appointment.title,
        day=appointment.day,
        start=appointment.start,
        end=appointment.end,
        clinician_ids=",".join(appointment.clinician_ids),
        place_kind=appointment.place.kind,
        place_municipality=appointment.place.municipality,
        family_facing=appointment.family_facing,
        booked_at=now.astimezone(UTC),
        status=BOOKED,
        sequence=0,
    )


def _from_row(row: AppointmentRecord) -> Appointment:
    from essence.scheduling.clinic_problem import Appointment, Place

    return Appointment(
        case_id=row.case_id,
        step_key=row.step_key,
        title=row.title,
        day=row.day,
        start=row.start.astimezone(STOCKHOLM),
        end=row.end.astimezone(STOCKHOLM),
        clinician_ids=tuple(_clinicians(row)),
        place=Place(row.place_kind, row.place_municipality),
        family_facing=row.family_facing,
        booked=True,
        status=row.status,
        sequence=row.sequence,
        record_id=row.id,
    )
