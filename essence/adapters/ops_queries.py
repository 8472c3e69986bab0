"""Aggregate SQL counts for health and metrics: states and step counts, no case content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, func
from sqlmodel import Session, col, select

from essence.domain.states import CaseState, StepState
from essence.services.ops_ports import OpsQueries
from models.audit import AuditRecord
from models.case import CaseRecord, StepRecord
from models.schedule import AppointmentRecord

_OPEN_CASE_STATES = [s.value for s in CaseState if s.is_open]
_TO_DO_STEP_STATES = [StepState.REQUESTED.value, StepState.READY.value, StepState.ON_HOLD.value]


class SqlOpsQueries(OpsQueries):
    """Counts over the case, step, appointment and audit tables."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def cases_by_state(self) -> dict[str, int]:
        rows = self.session.exec(
            select(CaseRecord.state, func.count()).group_by(CaseRecord.state)
        ).all()
        return {state: count for state, count in rows}

    def steps_not_scheduled(self) -> int:
        booked = exists().where(
            and_(
                AppointmentRecord.case_id == StepRecord.case_id,
                AppointmentRecord.step_key == StepRecord.key,
            )
        )
        query = (
            select(func.count())
            .select_from(StepRecord)
            .join(CaseRecord, col(CaseRecord.id) == col(StepRecord.case_id))
            .where(col(CaseRecord.state).in_(_OPEN_CASE_STATES))
            .where(col(StepRecord.state).in_(_TO_DO_STEP_STATES))
            .where(~booked)
        )
        return self.session.exec(query).one()

    def last_event(self, action: str) -> tuple[datetime, str] | None:
        row = self.session.exec(
            select(AuditRecord.at, AuditRecord.detail)
            .where(AuditRecord.action == action)
            .order_by(col(AuditRecord.id).desc())
            .limit(1)
        ).first()
        return (row[0], row[1]) if row else None
