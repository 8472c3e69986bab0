"""Tables of the web app: signed-in sessions and each login's language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Text
from sqlmodel import Field, SQLModel

from models.types import AwareDateTime


class WebSessionRecord(SQLModel, table=True):
    """A signed-in browser or API client; the cookie's token is stored only as its SHA-256."""

    __tablename__ = "web_session"
    __table_args__ = (CheckConstraint("seen_at >= created_at", name="ck_web_session_seen"),)

    token_hash: str = Field(primary_key=True, max_length=64, min_length=64)
    user_id: str = Field(foreign_key="app_user.id", ondelete="CASCADE", index=True, max_length=40)
    role: str = Field(max_length=20)
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=AwareDateTime)
    seen_at: datetime = Field(sa_type=AwareDateTime)


class WebPreferenceRecord(SQLModel, table=True):
    """A login's chosen language for the web app (Swedish unless they choose English)."""

    __tablename__ = "web_preference"
    __table_args__ = (CheckConstraint("language IN ('sv', 'en')", name="ck_web_preference_lang"),)

    user_id: str = Field(
        foreign_key="app_user.id", ondelete="CASCADE", primary_key=True, max_length=40
    )
    language: str = Field(max_length=5)


class WebRunRecord(SQLModel, table=True):
    """A background run started from the web (capacity scenario, re-plan) and its progress.

    In the database so that every worker process can show a run another one started.
    """

    __tablename__ = "web_run"
    __table_args__ = (
        CheckConstraint("done >= 0 AND total >= 1 AND done <= total", name="ck_web_run_progress"),
        CheckConstraint("kind IN ('capacity', 'replan')", name="ck_web_run_kind"),
    )

    id: str = Field(primary_key=True, max_length=32)
    kind: str = Field(max_length=20)
    owner: str = Field(foreign_key="app_user.id", ondelete="CASCADE", index=True, max_length=40)
    done: int = 0
    total: int = 1
    result: str | None = Field(default=None, sa_type=Text)
    error: str = Field(default="", max_length=300)
    started_at: datetime = Field(sa_type=AwareDateTime)
    updated_at: datetime = Field(sa_type=AwareDateTime)
    finished: bool = False
