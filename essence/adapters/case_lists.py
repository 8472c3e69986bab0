"""Cases read for lists: the columns a case's line needs, in four queries, no ORM objects.

Loading whole aggregates for `essence case list` read every column of every step and
assignment through the ORM and kept a snapshot of each case for saving; a list needs the
steps' states and dates, who works on the steps that are open now, and the consent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlmodel import Session

from essence.adapters.mapping import CASE_STATES, STEP_STATES
from essence.adapters.repositories import SqlPathwayRepository
from essence.domain.case import Case, Consent, ConsentStatus, GuardianConsent, Step
from essence.domain.pathway import PathwayTemplate
from essence.domain.personnummer import Personnummer
from essence.domain.professions import Profession
from essence.domain.states import CaseState, StepState
from essence.services.ports import CaseLists
from models.case import CaseRecord, GuardianConsentRecord, StepAssignmentRecord, StepRecord

_CASE = CaseRecord.__table__  # type: ignore[attr-defined]
_STEP = StepRecord.__table__  # type: ignore[attr-defined]
_ASSIGNMENT = StepAssignmentRecord.__table__  # type: ignore[attr-defined]
_CONSENT = GuardianConsentRecord.__table__  # type: ignore[attr-defined]
_ID_CHUNK = 500
_OPEN_CASE = _CASE.c.state.in_([s.value for s in CaseState if s.is_open])
_WORKABLE = [s.value for s in (StepState.READY, StepState.IN_PROGRESS, StepState.ON_HOLD)]
_PROFESSIONS = {p.value: p for p in Profession}
_CONSENT_STATUSES = {s.value: s for s in ConsentStatus}

_CASES = select(
    _CASE.c.id,
    _CASE.c.personnummer,
    _CASE.c.child_name,
    _CASE.c.municipality,
    _CASE.c.referring_unit,
    _CASE.c.referral_date,
    _CASE.c.template_id,
    _CASE.c.guardians,
    _CASE.c.state,
    _CASE.c.paused_from,
)
_STEPS = select(
    _STEP.c.case_id,
    _STEP.c.key,
    _STEP.c.state,
    _STEP.c.ready_on,
    _STEP.c.due_on,
    _STEP.c.planned_on,
    _STEP.c.completed_at,
    _STEP.c.needs_review,
)
_ASSIGNMENTS = (
    select(
        _ASSIGNMENT.c.case_id,
        _ASSIGNMENT.c.step_key,
        _ASSIGNMENT.c.profession,
        _ASSIGNMENT.c.clinician_id,
    )
    .join(
        _STEP,
        (_STEP.c.case_id == _ASSIGNMENT.c.case_id) & (_STEP.c.key == _ASSIGNMENT.c.step_key),
    )
    .where(_STEP.c.state.in_(_WORKABLE))
)
_CONSENTS = select(_CONSENT.c.case_id, _CONSENT.c.guardian, _CONSENT.c.status, _CONSENT.c.given_on)


_IDS = bindparam("ids", expanding=True)


class SqlCaseLists(CaseLists):
    """Cases for lists, read with plain column queries over the unit of work's session."""

    def __init__(self, session: Session, pathways: SqlPathwayRepository) -> None:
        self.session = session
        self.pathways = pathways

    def cases(
        self,
        *,
        open_only: bool = False,
        ids: Iterable[str] | None = None,
        municipality: str | None = None,
    ) -> list[Case]:
        conditions: list[ColumnElement[bool]] = []
        if open_only:
            conditions.append(_OPEN_CASE)
        if municipality is not None:
            conditions.append(_CASE.c.municipality == municipality)
        found = _Found()
        if ids is None:
            records = self._rows(_CASES.where(*conditions))
            scope = select(_CASE.c.id).where(*conditions) if conditions else None
            self._read_parts(found, scope)
        else:
            records = []
            for chunk in _chunks(list(dict.fromkeys(ids))):
                records += self._rows(_CASES.where(*conditions, _CASE.c.id.in_(_IDS)), chunk)
            for chunk in _chunks([r.id for r in records]):
                self._read_parts(found, _IDS, chunk)
        records.sort(key=lambda r: (r.referral_date, r.id))
        templates = self.pathways.by_id()
        return [found.case(record, templates[record.template_id]) for record in records]

    def _rows(self, query: Select[Any], ids: list[str] | None = None) -> list[Any]:
        parameters = {"ids": ids} if ids is not None else None
        return self.session.connection().execute(query, parameters).all()

    def _read_parts(self, found: _Found, scope: Any, ids: list[str] | None = None) -> None:
        """Steps, workable steps' assignments and consents of the cases in `scope` (a
        subquery of case ids, the `ids` parameter, or None for every case)."""

        def within(query: Select[Any], column: ColumnElement[str]) -> Select[Any]:
            return query if scope is None else query.where(column.in_(scope))

        for case_id, key, state, *dates, review in self._rows(within(_STEPS, _STEP.c.case_id), ids):
            ready_on, due_on, planned_on, completed_at = dates
            found.steps[case_id][key] = Step(
                key=key,
                state=STEP_STATES[state],
                ready_on=ready_on,
                due_on=due_on,
                planned_on=planned_on,
                completed_at=completed_at,
                needs_review=review,
            )
        for case_id, key, profession, clinician_id in self._rows(
            within(_ASSIGNMENTS, _ASSIGNMENT.c.case_id), ids
        ):
            found.steps[case_id][key].assignees[_PROFESSIONS[profession]] = clinician_id
        for case_id, guardian, status, given_on in self._rows(
            within(_CONSENTS, _CONSENT.c.case_id), ids
        ):
            found.consents[case_id][guardian] = GuardianConsent(
                guardian=guardian, status=_CONSENT_STATUSES[status], on=given_on
            )


class _Found:
    """Steps and consents read so far, by case id."""

    def __init__(self) -> None:
        self.steps: defaultdict[str, dict[str, Step]] = defaultdict(dict)
        self.consents: defaultdict[str, dict[int, GuardianConsent]] = defaultdict(dict)

    def case(self, record: Any, template: PathwayTemplate) -> Case:
        """The case of a row of `_CASES`, its steps in the template's order."""
        steps = self.steps[record.id]
        return Case(
            id=record.id,
            personnummer=Personnummer(record.personnummer),
            child_name=record.child_name,
            municipality=record.municipality,
            referring_unit=record.referring_unit,
            referral_date=record.referral_date,
            template=template,
            consent=Consent(record.guardians, self.consents[record.id]),
            state=CASE_STATES[record.state],
            steps={key: steps[key] for key in template.keys},
            paused_from=CASE_STATES[record.paused_from] if record.paused_from else None,
        )


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _ID_CHUNK):
        yield ids[start : start + _ID_CHUNK]
