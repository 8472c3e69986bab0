"""SQL repository of booked appointments; the scheduler's types load only when used."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlmodel import Session, col, select

from essence.domain.calendar import STOCKHOLM
from essence.services.ports import AppointmentRepository
from models.schedule import AppointmentRecord

if TYPE_CHECKING:
    from essence.scheduling.clinic_problem import Appointment

_ID_CHUNK = 500


class SqlAppointmentRepository(AppointmentRepository):
    """Appointments stored one row per (case, step)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def list(
        self,
        *,
        case_ids: Iterable[str] | None = None,
        first_day: date | None = None,
        last_day: date | None = None,
    ) -> list[Appointment]:
        query = select(AppointmentRecord)
        if first_day is not None:
            query = query.where(AppointmentRecord.day >= first_day)
        if last_day is not None:
            query = query.where(AppointmentRecord.day <= last_day)
        rows: list[AppointmentRecord] = []
        if case_ids is None:
            rows = list(self.session.exec(query).all())
        else:
            wanted = list(case_ids)
            for start in range(0, len(wanted), _ID_CHUNK):
                chunk = wanted[start : start + _ID_CHUNK]
                rows.extend(
                    self.session.exec(query.where(col(AppointmentRecord.case_id).in_(chunk)))
                )
        rows.sort(key=lambda r: (r.start, r.case_id, r.step_key))
        return [_from_row(r) for r in rows]

    def replace(self, case_ids: Iterable[str], appointments: Iterable[Appointment]) -> None:
        wanted = list(case_ids)
        for start in range(0, len(wanted), _ID_CHUNK):
            chunk = wanted[start : start + _ID_CHUNK]
            self.session.execute(
                delete(AppointmentRecord).where(col(AppointmentRecord.case_id).in_(chunk))
            )
        self.session.flush()
        now = datetime.now(UTC)
        self.session.add_all(_to_row(a, now) for a in appointments)
        self.session.flush()

    def remove(self, case_id: str, step_key: str) -> None:
        self.session.execute(
            delete(AppointmentRecord).where(
                col(AppointmentRecord.case_id) == case_id,
                col(AppointmentRecord.step_key) == step_key,
            )
        )

    def start_times(self, case_ids: Iterable[str]) -> dict[tuple[str, str], datetime]:
        wanted = list(case_ids)
        found: dict[tuple[str, str], datetime] = {}
        for start in range(0, len(wanted), _ID_CHUNK):
            chunk = wanted[start : start + _ID_CHUNK]
            query = select(
                AppointmentRecord.case_id, AppointmentRecord.step_key, AppointmentRecord.start
            ).where(col(AppointmentRecord.case_id).in_(chunk))
            for case_id, step_key, begins in self.session.exec(query):
                found[(case_id, step_key)] = begins.astimezone(STOCKHOLM)
        return found


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
        booked_at=now,
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
        clinician_ids=tuple(c for c in row.clinician_ids.split(",") if c),
        place=Place(row.place_kind, row.place_municipality),
        family_facing=row.family_facing,
        booked=True,
    )
