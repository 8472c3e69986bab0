"""Stored cases, their steps, the step assignments (who does which part) and each
guardian's consent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, text
from sqlmodel import Field, SQLModel

from models.types import AwareDateTime

#: Case states in which a child's case counts as open (one open case per child).
CLOSED_CASE_STATES_SQL = "state NOT IN ('closed', 'withdrawn')"
CASE_STATES_SQL = (
    "state IN ('referred', 'consented', 'assessing', 'feedback-given', 'closed', "
    "'withdrawn', 'paused')"
)
STEP_STATES_SQL = (
    "state IN ('requested', 'ready', 'in-progress', 'on-hold', 'completed', 'cancelled', "
    "'entered-in-error')"
)


class CaseRecord(SQLModel, table=True):
    """One child's assessment. `version` is the optimistic lock bumped by every change.

    A partial unique index allows one open (not closed, not withdrawn) case per child.
    """

    __tablename__ = "essence_case"
    __table_args__ = (
        Index(
            "uq_case_open_child",
            "personnummer",
            unique=True,
            sqlite_where=text(CLOSED_CASE_STATES_SQL),
            postgresql_where=text(CLOSED_CASE_STATES_SQL),
        ),
        CheckConstraint(CASE_STATES_SQL, name="ck_case_state"),
        CheckConstraint("guardians IN (1, 2)", name="ck_case_guardians"),
    )

    id: str = Field(primary_key=True, max_length=20)
    personnummer: str = Field(max_length=12, index=True)
    child_name: str = Field(max_length=120)
    municipality: str = Field(max_length=40, index=True)
    referring_unit: str = Field(max_length=120)
    referral_date: date = Field(index=True)
    template_id: int = Field(foreign_key="pathway_template.id")
    guardians: int = 2
    team_travels: bool = False
    state: str = Field(max_length=20, index=True)
    opened_at: datetime = Field(sa_type=AwareDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    withdrawn_reason: str = Field(default="", max_length=500)
    paused_from: str | None = Field(default=None, max_length=20)
    version: int = 1


class StepRecord(SQLModel, table=True):
    """One step of a case."""

    __tablename__ = "case_step"
    __table_args__ = (
        CheckConstraint(STEP_STATES_SQL, name="ck_step_state"),
        CheckConstraint("no_shows >= 0", name="ck_step_no_shows"),
    )

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
    needs_review: bool = False
    no_shows: int = 0


class StepAssignmentRecord(SQLModel, table=True):
    """Which clinician performs a profession's part of a step."""

    __tablename__ = "step_assignment"

    case_id: str = Field(primary_key=True, max_length=20)
    step_key: str = Field(primary_key=True, max_length=40)
    profession: str = Field(primary_key=True, max_length=40)
    clinician_id: str = Field(foreign_key="clinician.id", index=True, max_length=40)


class GuardianConsentRecord(SQLModel, table=True):
    """One guardian's consent to a case as it stands: given or withdrawn, when, by whom."""

    __tablename__ = "guardian_consent"
    __table_args__ = (
        CheckConstraint("guardian IN (1, 2)", name="ck_consent_guardian"),
        CheckConstraint("status IN ('given', 'withdrawn')", name="ck_consent_status"),
    )

    case_id: str = Field(foreign_key="essence_case.id", primary_key=True, max_length=20)
    guardian: int = Field(primary_key=True)
    status: str = Field(max_length=12)
    given_on: date
    recorded_by: str = Field(default="", max_length=40)
    recorded_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
