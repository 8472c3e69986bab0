"""Stored origins of imported referrals: the region's ServiceRequest and the guardians named."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import AwareDateTime


class ReferralOriginRecord(SQLModel, table=True):
    """The referral behind an imported case; a sender's request opens at most one case."""

    __tablename__ = "referral_origin"
    __table_args__ = (
        UniqueConstraint("request_system", "request_value", name="uq_referral_origin_request"),
    )

    case_id: str = Field(foreign_key="essence_case.id", primary_key=True, max_length=20)
    request_system: str = Field(max_length=200)
    request_value: str = Field(max_length=100)
    reason: str = Field(default="", max_length=500)
    requester: str = Field(max_length=120)
    requester_identifier: str = Field(default="", max_length=100)
    authored_at: datetime = Field(sa_type=AwareDateTime)
    guardians: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    consenting: int = 0
    imported_at: datetime = Field(sa_type=AwareDateTime)
