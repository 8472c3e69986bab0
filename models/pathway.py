"""Stored pathway templates: every version kept, so running cases keep theirs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import AwareDateTime


class PathwayTemplateRecord(SQLModel, table=True):
    """One version of a pathway template, its content as JSON."""

    __tablename__ = "pathway_template"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_pathway_name_version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, index=True)
    version: int
    fingerprint: str = Field(max_length=16)
    content: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_type=AwareDateTime)
