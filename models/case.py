"""Stored cases, their steps and the step assignments (who does which part)."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from models.types import AwareDateTime


class CaseRecord(SQLModel, table=True):
    """One child's assessment. `version` is the optimistic lock bumped by every change."""

    __tablename__ = "essence_case"

    id: str = Field(primary_key=True, max_length=20)
    personnummer: str = Field(max_length=12, index=True)
    child_name: str = Field(max_length=120)
    municipality: str = Field(max_length=40, index=True)
    referring_unit: str = Field(max_length=120)
    referral_date: date = Field(index=True)
    template_id: int = Field(foreign_key="pathway_template.id")
    guardians: int = 2
    consenting: int = 0
    consent_recorded_on: date | None = None
    team_travels: bool = False
    state: str = Field(max_length=20, index=True)
    opened_at: datetime = Field(sa_type=AwareDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    withdrawn_reason: str = Field(default="", max_length=500)
    version: int = 1


class StepRecord(SQLModel, table=True):
    """One step of a case."""

    __tablename__ = "case_step"

    case_id: str = Field(foreign_key="essence_case.id", primary_key=True, max_length=20)
    key: str = Field(primary_key=True, max_length=40)
    state: str = Field(max_length=20, index=True)
    ready_on: date | None = None
    due_on: date | None = None
    planned_on: date | None = None
    planned_place: str = Field(default="", max_length=60)
    started_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    completed_by: str = Field(default="", max_length=40)
    outcome: str = Field(default="", max_length=500)
    hold_reason: str = Field(default="", max_length=500)
    resume_state: str | None = Field(default=None, max_length=20)


class StepAssignmentRecord(SQLModel, table=True):
    """Which clinician performs a profession's part of a step."""

    __tablename__ = "step_assignment"

    case_id: str = Field(primary_key=True, max_length=20)
    step_key: str = Field(primary_key=True, max_length=40)
    profession: str = Field(primary_key=True, max_length=40)
    clinician_id: str = Field(foreign_key="clinician.id", index=True, max_length=40)
