"""Translation between domain objects and SQLModel records (no queries here)."""

from __future__ import annotations

from essence.domain.case import Case, Consent, ConsentStatus, GuardianConsent, Step
from essence.domain.personnummer import Personnummer
from essence.domain.professions import Organisation, Profession
from essence.domain.states import CaseState, StepState
from essence.domain.team import Absence, Clinician, Roster
from models.case import CaseRecord, GuardianConsentRecord, StepAssignmentRecord, StepRecord
from models.team import AbsenceRecord, ClinicianRecord

_STEP_FIELDS = (
    "ready_on",
    "due_on",
    "planned_on",
    "planned_place",
    "started_at",
    "completed_at",
    "completed_by",
    "outcome",
    "hold_reason",
    "needs_review",
    "no_shows",
)

STEP_COLUMNS = ("state", "resume_state", *_STEP_FIELDS)
STEP_STATES = {state.value: state for state in StepState}  # stored value → state
CASE_STATES = {state.value: state for state in CaseState}
CASE_COLUMNS = (
    "child_name",
    "municipality",
    "referring_unit",
    "guardians",
    "team_travels",
    "state",
    "closed_at",
    "withdrawn_reason",
    "paused_from",
)


def case_from_records(
    record: CaseRecord,
    steps: list[StepRecord],
    assignments: list[StepAssignmentRecord],
    template: object,
    consents: list[GuardianConsentRecord] | None = None,
) -> Case:
    """Rebuild the Case aggregate from its rows (steps in the template's order)."""
    by_key = {s.key: s for s in steps}
    domain_steps: dict[str, Step] = {}
    for key in template.keys:  # type: ignore[attr-defined]
        row = by_key[key]
        domain_steps[key] = Step(
            key=key,
            state=STEP_STATES[row.state],
            resume_state=STEP_STATES[row.resume_state] if row.resume_state else None,
            ready_on=row.ready_on,
            due_on=row.due_on,
            planned_on=row.planned_on,
            planned_place=row.planned_place,
            started_at=row.started_at,
            completed_at=row.completed_at,
            completed_by=row.completed_by,
            outcome=row.outcome,
            hold_reason=row.hold_reason,
            needs_review=row.needs_review,
            no_shows=row.no_shows,
        )
    for assignment in assignments:
        domain_steps[assignment.step_key].assignees[Profession(assignment.profession)] = (
            assignment.clinician_id
        )
    return Case(
        id=record.id,
        personnummer=Personnummer(record.personnummer),
        child_name=record.child_name,
        municipality=record.municipality,
        referring_unit=record.referring_unit,
        referral_date=record.referral_date,
        template=template,  # type: ignore[arg-type]
        consent=Consent(
            record.guardians, {c.guardian: consent_from_record(c) for c in consents or []}
        ),
        team_travels=record.team_travels,
        state=CASE_STATES[record.state],
        steps=domain_steps,
        opened_at=record.opened_at,
        closed_at=record.closed_at,
        withdrawn_reason=record.withdrawn_reason,
        version=record.version,
        paused_from=CaseState(record.paused_from) if record.paused_from else None,
    )


def consent_from_record(record: GuardianConsentRecord) -> GuardianConsent:
    """One guardian's stored consent."""
    return GuardianConsent(
        guardian=record.guardian,
        status=ConsentStatus(record.status),
        on=record.given_on,
        recorded_by=record.recorded_by,
        recorded_at=record.recorded_at,
    )


def consent_columns(consent: GuardianConsent) -> dict[str, object]:
    """A guardian-consent row's changeable columns."""
    return {
        "status": consent.status.value,
        "given_on": consent.on,
        "recorded_by": consent.recorded_by,
        "recorded_at": consent.recorded_at,
    }


def case_columns(case: Case) -> dict[str, object]:
    """The case row's changeable columns."""
    return {
        "child_name": case.child_name,
        "municipality": case.municipality,
        "referring_unit": case.referring_unit,
        "guardians": case.consent.guardians,
        "team_travels": case.team_travels,
        "state": case.state.value,
        "closed_at": case.closed_at,
        "withdrawn_reason": case.withdrawn_reason,
        "paused_from": case.paused_from.value if case.paused_from else None,
    }


def new_case_record(case: Case, template_id: int) -> CaseRecord:
    """A fresh row for a new case."""
    assert case.opened_at is not None
    return CaseRecord(
        id=case.id,
        personnummer=case.personnummer.digits,
        referral_date=case.referral_date,
        template_id=template_id,
        opened_at=case.opened_at,
        version=1,
        **case_columns(case),  # type: ignore[arg-type]
    )


def step_columns(step: Step) -> dict[str, object]:
    """A step row's columns, by name (in `STEP_COLUMNS` order)."""
    return dict(zip(STEP_COLUMNS, step_values(step), strict=True))


def step_values(step: Step) -> tuple[object, ...]:
    """A step row's column values in `STEP_COLUMNS` order (cheap to keep and compare)."""
    return (
        step.state.value,
        step.resume_state.value if step.resume_state else None,
        step.ready_on,
        step.due_on,
        step.planned_on,
        step.planned_place,
        step.started_at,
        step.completed_at,
        step.completed_by,
        step.outcome,
        step.hold_reason,
        step.needs_review,
        step.no_shows,
    )


def clinician_from_record(record: ClinicianRecord, absences: list[AbsenceRecord]) -> Clinician:
    """Rebuild a clinician with their absences."""
    return Clinician(
        id=record.id,
        name=record.name,
        profession=Profession(record.profession),
        organisation=Organisation(record.organisation),
        base=record.base,
        roster=Roster.with_hours_text(
            tuple(int(x) for x in record.roster.split(",")), record.hours or ""
        ),
        absences=[Absence(a.first_day, a.last_day, a.reason) for a in absences],
        daily_cap_minutes=record.daily_cap_minutes,
        active=record.active,
    )


def clinician_record(clinician: Clinician) -> ClinicianRecord:
    """A row for a clinician (absences are rows of their own)."""
    return ClinicianRecord(
        id=clinician.id,
        name=clinician.name,
        profession=clinician.profession.value,
        organisation=clinician.organisation.value,
        base=clinician.base,
        roster=",".join(str(m) for m in clinician.roster.minutes_by_weekday),
        hours=_hours_text(clinician.roster),
        daily_cap_minutes=clinician.daily_cap_minutes,
        active=clinician.active,
    )


def _hours_text(roster: Roster) -> str:
    """Stored working hours: "" for the defaults, else `describe_hours()`."""
    return "" if roster.describe_hours() == Roster().describe_hours() else roster.describe_hours()
