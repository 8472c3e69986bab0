"""The append-only audit log (Patient Data Act): every read and change of a case."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.types import AwareDateTime


class AuditRecord(SQLModel, table=True):
    """Who (user and role) did what (action) to which case, when, with which outcome, and
    in which web request or command (`request_id`, the id every log line of it carries).

    Rows are never updated or deleted: database triggers refuse it.
    """

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=AwareDateTime, index=True)
    user_id: str = Field(max_length=40, index=True)
    role: str = Field(max_length=20)
    action: str = Field(max_length=40)
    case_id: str | None = Field(default=None, max_length=20, index=True)
    outcome: str = Field(max_length=20)
    detail: str = Field(default="", max_length=200)
    request_id: str | None = Field(default=None, max_length=32, index=True)
