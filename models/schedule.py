"""Stored appointments: the booked combined investigation, one row per planned step."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, text
from sqlmodel import Field, SQLModel

from models.types import AwareDateTime

BOOKED_SQL = "status = 'booked'"


class AppointmentRecord(SQLModel, table=True):
    """A step's appointment: day, clock time, clinicians (comma-separated ids) and place.

    `status` is booked, attended, cancelled or no_show; rows that are no longer booked are
    kept as history (and so calendar clients learn of a cancellation). At most one booked
    appointment per step (a partial unique index). `sequence` is the iCalendar SEQUENCE,
    raised by every change a calendar must pick up.
    """

    __tablename__ = "appointment"
    __table_args__ = (
        Index(
            "uq_appointment_booked_step",
            "case_id",
            "step_key",
            unique=True,
            sqlite_where=text(BOOKED_SQL),
            postgresql_where=text(BOOKED_SQL),
        ),
        CheckConstraint(
            "status IN ('booked', 'attended', 'cancelled', 'no_show')", name="ck_appointment_status"
        ),
        CheckConstraint("sequence >= 0", name="ck_appointment_sequence"),
        CheckConstraint('"end" > start', name="ck_appointment_times"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="essence_case.id", index=True, max_length=20)
    step_key: str = Field(max_length=40)
    title: str = Field(max_length=120)
    day: date = Field(index=True)
    start: datetime = Field(sa_type=AwareDateTime)
    end: datetime = Field(sa_type=AwareDateTime)
    clinician_ids: str = Field(max_length=200)
    place_kind: str = Field(max_length=30)
    place_municipality: str = Field(default="", max_length=40)
    family_facing: bool = False
    booked_at: datetime = Field(sa_type=AwareDateTime)
    status: str = Field(default="booked", max_length=12, index=True)
    sequence: int = 0
    changed_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
