"""SQL repository of family needs: one row per case, absent when nothing is asked for."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from essence.domain.family import FamilyNeeds, parse_dates, parse_weekdays
from essence.services.ports import FamilyNeedsRepository
from models.family import CaseFamilyNeedsRecord

_ID_CHUNK = 500


class SqlFamilyNeedsRepository(FamilyNeedsRepository):
    """Family needs stored in `case_family_needs`."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, case_id: str) -> FamilyNeeds:
        record = self.session.get(CaseFamilyNeedsRecord, case_id)
        return FamilyNeeds() if record is None else needs_from_record(record)

    def for_cases(self, case_ids: Iterable[str]) -> dict[str, FamilyNeeds]:
        wanted = list(case_ids)
        found: dict[str, FamilyNeeds] = {}
        for start in range(0, len(wanted), _ID_CHUNK):
            chunk = wanted[start : start + _ID_CHUNK]
            query = select(CaseFamilyNeedsRecord).where(
                col(CaseFamilyNeedsRecord.case_id).in_(chunk)
            )
            for record in self.session.exec(query):
                found[record.case_id] = needs_from_record(record)
        return found

    def put(self, case_id: str, needs: FamilyNeeds) -> None:
        record = self.session.get(CaseFamilyNeedsRecord, case_id)
        if needs.is_empty:
            if record is not None:
                self.session.delete(record)
            self.session.flush()
            return
        values = needs_columns(needs)
        if record is None:
            self.session.add(CaseFamilyNeedsRecord(case_id=case_id, **values))
        else:
            for name, value in values.items():
                setattr(record, name, value)
        self.session.flush()


def needs_from_record(record: CaseFamilyNeedsRecord) -> FamilyNeeds:
    """Rebuild the domain value from its row."""
    return FamilyNeeds(
        blocked_weekdays=parse_weekdays(record.blocked_weekdays),
        blocked_dates=parse_dates(record.blocked_dates),
        interpreter_language=record.interpreter_language,
        interpreter_minutes=record.interpreter_minutes,
        preferred_site=record.preferred_site,
        video_preferred=record.video_preferred,
    )


def needs_columns(needs: FamilyNeeds) -> dict[str, object]:
    """The row's columns of a domain value."""
    return {
        "blocked_weekdays": needs.describe_weekdays(),
        "blocked_dates": ",".join(d.isoformat() for d in sorted(needs.blocked_dates)),
        "interpreter_language": needs.interpreter_language,
        "interpreter_minutes": needs.interpreter_minutes,
        "preferred_site": needs.preferred_site,
        "video_preferred": needs.video_preferred,
    }
