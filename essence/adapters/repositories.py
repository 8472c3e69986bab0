"""SQL repositories: cases, clinicians, pathways, users and the audit log over one session."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache

from sqlalchemy import Select, Update, and_, bindparam, delete, func, insert, or_, update
from sqlalchemy import select as select_rows
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from essence.adapters import mapping
from essence.adapters.integrity import integrity_error
from essence.domain.access import Role, User
from essence.domain.case import Case
from essence.domain.errors import ConcurrencyConflict, DuplicateCase, InvalidInput, NotFound
from essence.domain.pathway import PathwayTemplate
from essence.domain.personnummer import Personnummer
from essence.domain.states import CaseState, StepState
from essence.domain.team import Absence, Clinician
from essence.services.ports import (
    AuditEvent,
    AuditLog,
    CaseRepository,
    ClinicianRepository,
    PathwayRepository,
    UserRepository,
    WorkItem,
)
from models.audit import AuditRecord
from models.case import CaseRecord, GuardianConsentRecord, StepAssignmentRecord, StepRecord
from models.pathway import PathwayTemplateRecord
from models.team import AbsenceRecord, ClinicianRecord, UserRecord

_TEMPLATE_CACHE: dict[tuple[str, int, str], PathwayTemplate] = {}
_ID_CHUNK = 500
OPEN_CASE_STATES = [s.value for s in CaseState if s.is_open]
_WORKING_CASE_STATES = ["consented", "assessing", "feedback-given"]  # steps can be worked on

# Statements of the per-request read paths, built once (see `_rows_where`).
_TEMPLATE_HEADS = select_rows(
    PathwayTemplateRecord.id,
    PathwayTemplateRecord.name,
    PathwayTemplateRecord.version,
    PathwayTemplateRecord.fingerprint,
)
_USER_ROW = select_rows(UserRecord.id, UserRecord.role, UserRecord.clinician_id).where(
    col(UserRecord.id) == bindparam("user_id")
)
_ASSIGNEES = select_rows(
    StepAssignmentRecord.case_id, StepAssignmentRecord.step_key, StepAssignmentRecord.clinician_id
).where(col(StepAssignmentRecord.case_id).in_(bindparam("values", expanding=True)))


# A clinician's open steps (in the given states) and the requested ones booked on or before
# `booked_until`, with the child and the pathway (date.min: none booked ahead).
def _assigned_steps(*columns: object) -> Select:  # type: ignore[type-arg]
    """SELECT `columns` over each step's assignments, with the step's case."""
    return (
        select_rows(*columns)  # type: ignore[call-overload]
        .select_from(StepRecord)
        .join(
            StepAssignmentRecord,
            and_(
                StepAssignmentRecord.case_id == StepRecord.case_id,
                StepAssignmentRecord.step_key == StepRecord.key,
            ),
        )
        .join(CaseRecord, CaseRecord.id == StepRecord.case_id)
    )


_WORKLIST = (
    _assigned_steps(
        StepRecord.case_id,
        StepRecord.key,
        StepRecord.state,
        StepRecord.ready_on,
        StepRecord.planned_on,
        CaseRecord.child_name,
        CaseRecord.personnummer,
        CaseRecord.template_id,
    )
    .where(StepAssignmentRecord.clinician_id == bindparam("clinician"))
    .where(
        or_(
            col(StepRecord.state).in_(bindparam("states", expanding=True)),
            and_(
                col(StepRecord.state) == StepState.REQUESTED.value,
                col(StepRecord.planned_on).is_not(None),
                col(StepRecord.planned_on) <= bindparam("booked_until"),
            ),
        )
    )
    .where(col(CaseRecord.state).in_(_WORKING_CASE_STATES))
    .distinct()
)
OPEN_STEP_STATES = (StepState.REQUESTED, StepState.READY, StepState.IN_PROGRESS, StepState.ON_HOLD)


class SqlPathwayRepository(PathwayRepository):
    """Pathway templates stored as JSON, each version once; parsed templates are cached."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, template: PathwayTemplate) -> None:
        existing = self.session.exec(
            select(PathwayTemplateRecord).where(
                PathwayTemplateRecord.name == template.name,
                PathwayTemplateRecord.version == template.version,
            )
        ).first()
        if existing is not None:
            if existing.fingerprint != template.fingerprint():
                raise InvalidInput(
                    "pathway version",
                    f"{template.name} v{template.version}",
                    "exists with other content; raise the version number",
                )
            return
        self.session.add(
            PathwayTemplateRecord(
                name=template.name,
                version=template.version,
                fingerprint=template.fingerprint(),
                content=json.dumps(template.model_dump(mode="json"), ensure_ascii=False),
                created_at=datetime.now(UTC),
            )
        )
        self.session.flush()

    def get(self, name: str, version: int | None = None) -> PathwayTemplate:
        return _parse_template(self.record(name, version))

    def record(self, name: str, version: int | None = None) -> PathwayTemplateRecord:
        """The stored row of a template version (newest when `version` is None)."""
        query = select(PathwayTemplateRecord).where(PathwayTemplateRecord.name == name)
        if version is not None:
            query = query.where(PathwayTemplateRecord.version == version)
        row = self.session.exec(query.order_by(col(PathwayTemplateRecord.version).desc())).first()
        if row is None:
            raise NotFound("pathway", name if version is None else f"{name} v{version}")
        return row

    def by_id(self) -> dict[int, PathwayTemplate]:
        """Every stored template by row id (the JSON is read only for versions not parsed
        yet in this process; a case read needs the templates on every request)."""
        table = PathwayTemplateRecord
        heads = self.session.execute(_TEMPLATE_HEADS).all()
        missing = [h.id for h in heads if (h.name, h.version, h.fingerprint) not in _TEMPLATE_CACHE]
        if missing:
            for row in self.session.exec(select(table).where(col(table.id).in_(missing))):
                _parse_template(row)
        return {h.id: _TEMPLATE_CACHE[(h.name, h.version, h.fingerprint)] for h in heads}

    def list(self) -> list[PathwayTemplate]:
        rows = self.session.exec(
            select(PathwayTemplateRecord).order_by(
                PathwayTemplateRecord.name, PathwayTemplateRecord.version
            )
        ).all()
        return [_parse_template(row) for row in rows]


def _rows(model: type) -> Select:  # type: ignore[type-arg]
    """SELECT of a table's plain columns: rows read like records, without ORM instances
    (the read paths only look at the values; building identity-mapped objects costs more
    than the query)."""
    return select_rows(*model.__table__.columns)  # type: ignore[attr-defined]


@cache
def _rows_where(model: type, column: str, *, many: bool = False) -> Select:  # type: ignore[type-arg]
    """`_rows(model)` where `column` equals the parameter `value` (with `many`: is in the list
    `values`), built once: on the hot paths, building and keying a statement cost about as
    much CPU as running it."""
    table = model.__table__  # type: ignore[attr-defined]
    if many:
        return _rows(model).where(table.c[column].in_(bindparam("values", expanding=True)))
    return _rows(model).where(table.c[column] == bindparam("value"))


def _parse_template(row: PathwayTemplateRecord) -> PathwayTemplate:
    key = (row.name, row.version, row.fingerprint)
    if key not in _TEMPLATE_CACHE:
        _TEMPLATE_CACHE[key] = PathwayTemplate.from_mapping(json.loads(row.content))
    return _TEMPLATE_CACHE[key]


class SqlCaseRepository(CaseRepository):
    """Cases with optimistic locking: a save updates `version` only if nobody else did."""

    def __init__(self, session: Session, pathways: SqlPathwayRepository) -> None:
        self.session = session
        self.pathways = pathways
        self._templates: dict[int, PathwayTemplate] | None = None
        self._loaded: dict[str, _Snapshot] = {}

    # --- reading ---------------------------------------------------------------------------

    def _template(self, template_id: int) -> PathwayTemplate:
        if self._templates is None or template_id not in self._templates:
            self._templates = self.pathways.by_id()
        return self._templates[template_id]

    def get(self, case_id: str) -> Case:
        record = self.session.execute(_rows_where(CaseRecord, "id"), {"value": case_id}).first()
        if record is None:
            raise NotFound("case", case_id)
        return self._build([record])[0]  # type: ignore[list-item]

    def list(self, *, open_only: bool = False, ids: Iterable[str] | None = None) -> list[Case]:
        query = _rows(CaseRecord)
        if open_only:
            query = query.where(col(CaseRecord.state).in_(OPEN_CASE_STATES))
        if ids is not None:
            wanted = list(ids)
            records: list[CaseRecord] = []
            for start in range(0, len(wanted), _ID_CHUNK):
                chunk = wanted[start : start + _ID_CHUNK]
                records.extend(self.session.execute(query.where(col(CaseRecord.id).in_(chunk))))
        else:
            records = list(self.session.execute(query))
        records.sort(key=lambda r: (r.referral_date, r.id))
        return self._build(records)

    def _build(self, records: list[CaseRecord]) -> list[Case]:
        ids = [r.id for r in records]
        steps: dict[str, list[StepRecord]] = defaultdict(list)
        assignments: dict[str, list[StepAssignmentRecord]] = defaultdict(list)
        consents: dict[str, list[GuardianConsentRecord]] = defaultdict(list)
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = ids[start : start + _ID_CHUNK]
            for model, found in (
                (StepRecord, steps),
                (StepAssignmentRecord, assignments),
                (GuardianConsentRecord, consents),
            ):
                query = _rows_where(model, "case_id", many=True)
                for row in self.session.execute(query, {"values": chunk}):
                    found[row.case_id].append(row)
        cases = []
        for record in records:
            case = mapping.case_from_records(
                record,
                steps[record.id],
                assignments[record.id],
                self._template(record.template_id),
                consents[record.id],
            )
            self._remember(case)
            cases.append(case)
        return cases

    def _remember(self, case: Case) -> None:
        self._loaded[case.id] = _Snapshot(
            version=case.version,
            case_columns=mapping.case_columns(case),
            steps={key: mapping.step_values(step) for key, step in case.steps.items()},
            assigned=assignment_keys(case),
            consents=consent_rows(case),
        )

    def loaded_version(self, case_id: str) -> int | None:
        """The version a case had when this unit of work loaded it (None if not loaded)."""
        snapshot = self._loaded.get(case_id)
        return snapshot.version if snapshot else None

    def versions(self, ids: Iterable[str]) -> dict[str, int]:
        wanted = list(ids)
        found: dict[str, int] = {}
        for start in range(0, len(wanted), _ID_CHUNK):
            chunk = wanted[start : start + _ID_CHUNK]
            query = select(CaseRecord.id, CaseRecord.version).where(col(CaseRecord.id).in_(chunk))
            found.update((case_id, version) for case_id, version in self.session.exec(query))
        return found

    def ids_for_clinician(self, clinician_id: str) -> list[str]:
        rows = self.session.exec(
            select(StepAssignmentRecord.case_id)
            .where(StepAssignmentRecord.clinician_id == clinician_id)
            .distinct()
        ).all()
        return sorted(rows)

    def worklist(
        self, clinician_id: str, states: Iterable[str], booked_until: date | None = None
    ) -> list[WorkItem]:
        rows = self.session.execute(
            _WORKLIST,
            {
                "clinician": clinician_id,
                "states": list(states),
                "booked_until": booked_until or date.min,
            },
        ).all()
        assignees = self._assignees({row.case_id for row in rows})
        items = [
            WorkItem(
                case_id=row.case_id,
                step_key=row.key,
                state=row.state,
                ready_on=row.ready_on,
                planned_on=row.planned_on,
                child_name=row.child_name,
                personnummer=Personnummer(row.personnummer),
                template=self._template(row.template_id),
                assignees=tuple(sorted(assignees[row.case_id, row.key])),
            )
            for row in rows
        ]
        return sorted(
            items,
            key=lambda w: (w.planned_on or w.ready_on or date.min, w.case_id, w.step_key),
        )

    def _assignees(self, case_ids: Iterable[str]) -> dict[tuple[str, str], set[str]]:
        """Who is assigned to each step of the given cases, by (case id, step key)."""
        found: dict[tuple[str, str], set[str]] = defaultdict(set)
        wanted = sorted(case_ids)
        for start in range(0, len(wanted), _ID_CHUNK):
            chunk = {"values": wanted[start : start + _ID_CHUNK]}
            for case_id, step_key, clinician_id in self.session.execute(_ASSIGNEES, chunk):
                found[case_id, step_key].add(clinician_id)
        return found

    def open_minutes_by_clinician(self) -> dict[str, int]:
        templates = self.pathways.by_id()
        minutes: dict[str, int] = defaultdict(int)
        query = _assigned_steps(
            StepAssignmentRecord.clinician_id, StepRecord.key, CaseRecord.template_id
        ).where(col(StepRecord.state).in_([s.value for s in OPEN_STEP_STATES]))
        for clinician_id, key, template_id in self.session.execute(query):
            minutes[clinician_id] += templates[template_id].step(key).minutes
        return dict(minutes)

    def exists_with_personnummer(self, digits: str) -> str | None:
        return self.session.exec(
            select(CaseRecord.id).where(
                CaseRecord.personnummer == digits,
                col(CaseRecord.state).in_(OPEN_CASE_STATES),
            )
        ).first()

    # --- writing ---------------------------------------------------------------------------

    def add(self, case: Case) -> None:
        template_id = self.pathways.record(case.template.name, case.template.version).id
        assert template_id is not None
        self.session.add(mapping.new_case_record(case, template_id))
        try:
            self.session.flush()
        except IntegrityError as error:
            if "uq_case_open_child" in str(error.orig) or "personnummer" in str(error.orig):
                raise DuplicateCase(None) from None
            raise
        for step in case.steps.values():
            self.session.add(
                StepRecord(case_id=case.id, key=step.key, **mapping.step_columns(step))
            )
        self._save_assignments(case, set())
        self._save_consents(case, {})
        case.version = 1
        self._remember(case)

    def save(self, case: Case) -> None:
        """Write what changed since loading, checking the version; an unchanged case is
        not written and keeps its version."""
        snapshot = self._loaded[case.id]
        loaded_version, assigned = snapshot.version, snapshot.assigned
        columns = mapping.case_columns(case)
        step_values = {key: mapping.step_values(step) for key, step in case.steps.items()}
        if (
            columns == snapshot.case_columns
            and step_values == snapshot.steps
            and assignment_keys(case) == assigned
            and consent_rows(case) == snapshot.consents
        ):
            case.version = loaded_version
            return
        result = self.session.execute(
            _UPDATE_CASE.statement,
            _UPDATE_CASE.parameters(
                {**columns, "version": loaded_version + 1}, id=case.id, version=loaded_version
            ),
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrencyConflict(case.id)
        changed_steps = [
            _UPDATE_STEP.parameters(
                dict(zip(mapping.STEP_COLUMNS, values, strict=True)), case_id=case.id, key=key
            )
            for key, values in step_values.items()
            if values != snapshot.steps[key]
        ]
        if changed_steps:
            self.session.execute(_UPDATE_STEP.statement, changed_steps)
        self._save_assignments(case, assigned)
        self._save_consents(case, snapshot.consents)
        case.version = loaded_version + 1
        self._remember(case)

    def _save_assignments(self, case: Case, before: set[tuple[str, str, str]]) -> None:
        now = assignment_keys(case)
        if now == before:
            return
        for step_key, profession, _cid in before - now:
            self.session.execute(
                delete(StepAssignmentRecord).where(
                    col(StepAssignmentRecord.case_id) == case.id,
                    col(StepAssignmentRecord.step_key) == step_key,
                    col(StepAssignmentRecord.profession) == profession,
                )
            )
        self.session.flush()
        self.session.add_all(
            StepAssignmentRecord(case_id=case.id, step_key=k, profession=p, clinician_id=c)
            for k, p, c in now - before
        )
        self.session.flush()

    def _save_consents(self, case: Case, before: dict[int, dict[str, object]]) -> None:
        now = consent_rows(case)
        for guardian, row in now.items():
            if guardian not in before:
                self.session.add(GuardianConsentRecord(case_id=case.id, guardian=guardian, **row))
            elif row != before[guardian]:
                self.session.execute(
                    update(GuardianConsentRecord)
                    .where(
                        col(GuardianConsentRecord.case_id) == case.id,
                        col(GuardianConsentRecord.guardian) == guardian,
                    )
                    .values(**row)
                    .execution_options(synchronize_session=False)
                )
        for guardian in set(before) - set(now):
            self.session.execute(
                delete(GuardianConsentRecord).where(
                    col(GuardianConsentRecord.case_id) == case.id,
                    col(GuardianConsentRecord.guardian) == guardian,
                )
            )
        self.session.flush()


@dataclass(frozen=True)
class _PreparedUpdate:
    """An UPDATE of a table's changeable columns, built once: every save binds values to
    the same statement (building and caching a new statement per row cost more than the
    write itself), and several rows go in one executemany."""

    statement: Update
    columns: tuple[str, ...]

    @classmethod
    def of(cls, model: type, columns: Iterable[str], keys: Iterable[str]) -> _PreparedUpdate:
        """`UPDATE model SET columns WHERE keys`, with `where_<key>` parameters."""
        table = model.__table__  # type: ignore[attr-defined]
        names = tuple(columns)
        statement = (
            update(table)
            .where(*(table.c[k] == bindparam(f"where_{k}", type_=table.c[k].type) for k in keys))
            .values({name: bindparam(f"set_{name}", type_=table.c[name].type) for name in names})
        )
        return cls(statement, names)

    def parameters(self, values: dict[str, object], **where: object) -> dict[str, object]:
        """The statement's parameters: a value for every column set, and the keys' values."""
        bound = {f"set_{name}": values[name] for name in self.columns}
        bound.update((f"where_{key}", value) for key, value in where.items())
        return bound


_UPDATE_CASE = _PreparedUpdate.of(CaseRecord, (*mapping.CASE_COLUMNS, "version"), ("id", "version"))
_UPDATE_STEP = _PreparedUpdate.of(StepRecord, mapping.STEP_COLUMNS, ("case_id", "key"))


@dataclass(frozen=True)
class _Snapshot:
    """A case's rows as loaded, to write only what changed and check the version."""

    version: int
    case_columns: dict[str, object]
    steps: dict[str, tuple[object, ...]]
    assigned: set[tuple[str, str, str]]
    consents: dict[int, dict[str, object]]


def consent_rows(case: Case) -> dict[int, dict[str, object]]:
    """Each guardian's consent as row columns, by guardian number."""
    return {g: mapping.consent_columns(r) for g, r in case.consent.records.items()}


def assignment_keys(case: Case) -> set[tuple[str, str, str]]:
    """(step, profession, clinician) for every assignment of the case."""
    return {
        (step.key, profession.value, clinician_id)
        for step in case.steps.values()
        for profession, clinician_id in step.assignees.items()
    }


class SqlClinicianRepository(ClinicianRepository):
    """Clinicians and absences."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, clinician: Clinician) -> None:
        if self.session.get(ClinicianRecord, clinician.id) is not None:
            raise InvalidInput("clinician id", clinician.id, "is already in use")
        self.session.add(mapping.clinician_record(clinician))
        self.session.flush()
        for absence in clinician.absences:
            self.add_absence(clinician.id, absence)

    def get(self, clinician_id: str) -> Clinician:
        record = self.session.execute(
            _rows_where(ClinicianRecord, "id"), {"value": clinician_id}
        ).first()
        if record is None:
            raise NotFound("clinician", clinician_id)
        absences = self.session.execute(
            _rows_where(AbsenceRecord, "clinician_id"), {"value": clinician_id}
        ).all()
        return mapping.clinician_from_record(record, list(absences))  # type: ignore[arg-type]

    def list(self, *, active_only: bool = True) -> list[Clinician]:
        query = select(ClinicianRecord).order_by(ClinicianRecord.profession, ClinicianRecord.id)
        if active_only:
            query = query.where(col(ClinicianRecord.active).is_(True))
        absences: dict[str, list[AbsenceRecord]] = defaultdict(list)
        for row in self.session.exec(select(AbsenceRecord)):
            absences[row.clinician_id].append(row)
        return [
            mapping.clinician_from_record(r, absences[r.id]) for r in self.session.exec(query).all()
        ]

    def add_absence(self, clinician_id: str, absence: Absence) -> None:
        if self.session.get(ClinicianRecord, clinician_id) is None:
            raise NotFound("clinician", clinician_id)
        self.session.add(
            AbsenceRecord(
                clinician_id=clinician_id,
                first_day=absence.first_day,
                last_day=absence.last_day,
                reason=absence.reason,
            )
        )
        self.session.flush()


class SqlUserRepository(UserRepository):
    """Users and roles."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, user: User) -> None:
        if self.session.get(UserRecord, user.id) is not None:
            raise InvalidInput("user", user.id, "already exists")
        self.session.add(
            UserRecord(
                id=user.id,
                role=user.role.value,
                clinician_id=user.clinician_id,
                created_at=datetime.now(UTC),
            )
        )
        try:
            self.session.flush()
        except IntegrityError as error:
            raise integrity_error(error, {"clinician_id": user.clinician_id}) from None

    def get(self, user_id: str) -> User:
        # a plain row from a statement built once: every use case resolves its user
        record = self.session.execute(_USER_ROW, {"user_id": user_id}).first()
        if record is None:
            raise NotFound("user", user_id)
        return User(record.id, Role(record.role), record.clinician_id)

    def list(self) -> list[User]:
        rows = self.session.exec(select(UserRecord).order_by(UserRecord.id)).all()
        return [User(r.id, Role(r.role), r.clinician_id) for r in rows]

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        record = self.session.get(UserRecord, user_id)
        if record is None:
            raise NotFound("user", user_id)
        record.password_hash = password_hash
        self.session.add(record)
        self.session.flush()

    def password_hash(self, user_id: str) -> str | None:
        record = self.session.get(UserRecord, user_id)
        if record is None:
            raise NotFound("user", user_id)
        return record.password_hash


class SqlAuditLog(AuditLog):
    """The append-only audit table (the database refuses updates and deletes)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, events: Iterable[AuditEvent]) -> None:
        rows = [
            {
                "at": e.at,
                "user_id": e.user_id,
                "role": e.role,
                "action": e.action,
                "case_id": e.case_id,
                "outcome": e.outcome,
                "detail": e.detail[:200],
                "request_id": e.request_id,
            }
            for e in events
        ]
        if rows:  # one multi-row INSERT, no ORM objects (a worklist audits every case)
            self.session.flush()
            self.session.execute(insert(AuditRecord.__table__), rows)  # type: ignore[attr-defined]

    def for_case(self, case_id: str) -> list[AuditEvent]:
        rows = self.session.exec(
            select(AuditRecord).where(AuditRecord.case_id == case_id).order_by(col(AuditRecord.id))
        ).all()
        return [
            AuditEvent(
                r.at, r.user_id, r.role, r.action, r.case_id, r.outcome, r.detail, r.request_id
            )
            for r in rows
        ]

    def count(self) -> int:
        """Number of audit rows (for tests and reports)."""
        return self.session.exec(select(func.count()).select_from(AuditRecord)).one()
