"""Stored family needs: one row per case, honoured by the planner as hard rules."""

from __future__ import annotations

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel


class CaseFamilyNeedsRecord(SQLModel, table=True):
    """What a family needs (`essence.domain.family.FamilyNeeds`); no row means nothing.

    `blocked_weekdays` holds weekday names (``mon,fri``), `blocked_dates` ISO dates.
    """

    __tablename__ = "case_family_needs"
    __table_args__ = (
        CheckConstraint(
            "interpreter_minutes >= 0 AND interpreter_minutes <= 120",
            name="ck_family_needs_interpreter_minutes",
        ),
        CheckConstraint(
            "interpreter_minutes = 0 OR interpreter_language <> ''",
            name="ck_family_needs_interpreter_language",
        ),
    )

    case_id: str = Field(primary_key=True, foreign_key="essence_case.id", max_length=20)
    blocked_weekdays: str = Field(default="", max_length=40)
    blocked_dates: str = Field(default="", max_length=2000)
    interpreter_language: str = Field(default="", max_length=40)
    interpreter_minutes: int = 0
    preferred_site: str = Field(default="", max_length=40)
    video_preferred: bool = False
