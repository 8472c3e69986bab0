"""Stored appointments: the booked combined investigation, one row per planned step."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import AwareDateTime


class AppointmentRecord(SQLModel, table=True):
    """A booked step: day, clock time, clinicians (comma-separated ids) and place."""

    __tablename__ = "appointment"
    __table_args__ = (UniqueConstraint("case_id", "step_key", name="uq_appointment_case_step"),)

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
