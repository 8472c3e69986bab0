"""Stored team: clinicians, their absences and the users who act on essence."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from models.types import AwareDateTime


class ClinicianRecord(SQLModel, table=True):
    """A clinician; the roster is seven comma-separated weekday minute values, `hours` the
    working hours and lunch (`Roster.describe_hours()`, "" for 08:00-17:00, lunch 12:00+30)."""

    __tablename__ = "clinician"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=120)
    profession: str = Field(max_length=40, index=True)
    organisation: str = Field(max_length=40)
    base: str = Field(max_length=40)
    roster: str = Field(max_length=80)
    hours: str = Field(default="", max_length=200)
    daily_cap_minutes: int = 360
    active: bool = True


class AbsenceRecord(SQLModel, table=True):
    """A clinician's absence (vacation, course, sick leave), both days included."""

    __tablename__ = "absence"

    id: int | None = Field(default=None, primary_key=True)
    clinician_id: str = Field(foreign_key="clinician.id", index=True, max_length=40)
    first_day: date
    last_day: date
    reason: str = Field(default="absence", max_length=80)


class UserRecord(SQLModel, table=True):
    """Someone who acts on essence, with a role; clinicians link to their staff record."""

    __tablename__ = "app_user"

    id: str = Field(primary_key=True, max_length=40)
    role: str = Field(max_length=20)
    clinician_id: str | None = Field(default=None, foreign_key="clinician.id", max_length=40)
    created_at: datetime = Field(sa_type=AwareDateTime)
    password_hash: str | None = Field(default=None, max_length=255)
