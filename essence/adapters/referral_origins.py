"""SQL repository of imported referrals' origins (one row per imported case)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import Session, select

from essence.services.ports import ReferralOrigin, ReferralOriginRepository
from models.referral import ReferralOriginRecord


class SqlReferralOriginRepository(ReferralOriginRepository):
    """Origins stored in `referral_origin`; the database refuses a request imported twice."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, case_id: str, origin: ReferralOrigin) -> None:
        self.session.add(
            ReferralOriginRecord(
                case_id=case_id,
                request_system=origin.request_system,
                request_value=origin.request_value,
                reason=origin.reason,
                requester=origin.requester,
                requester_identifier=origin.requester_identifier,
                authored_at=origin.authored_at,
                guardians=json.dumps([list(g) for g in origin.guardians], ensure_ascii=False),
                consenting=origin.consenting,
                imported_at=datetime.now(UTC),
            )
        )
        self.session.flush()

    def get(self, case_id: str) -> ReferralOrigin | None:
        row = self.session.get(ReferralOriginRecord, case_id)
        if row is None:
            return None
        return ReferralOrigin(
            request_system=row.request_system,
            request_value=row.request_value,
            reason=row.reason,
            requester=row.requester,
            requester_identifier=row.requester_identifier,
            authored_at=row.authored_at,
            guardians=tuple((name, role) for name, role in json.loads(row.guardians)),
            consenting=row.consenting,
        )

    def case_for_request(self, system: str, value: str) -> str | None:
        query = select(ReferralOriginRecord.case_id).where(
            ReferralOriginRecord.request_system == system,
            ReferralOriginRecord.request_value == value,
        )
        return self.session.exec(query).first()
