"""What services hand to the CLI and the web app: plain pydantic read models.

The same shapes are printed by `--json` and (later) returned by the JSON API. Personal
data appears only in views meant for people with access to the case, and the
personnummer only masked.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class StepView(BaseModel):
    """One step of a case as a coordinator or clinician sees it."""

    key: str
    title: str
    state: str
    professions: list[str]
    requires: list[str]
    assignees: dict[str, str]
    minutes: int
    ready_on: date | None
    due_on: date | None
    planned_on: date | None
    started_at: datetime | None
    completed_at: datetime | None
    outcome: str
    hold_reason: str
    needs_review: bool = False
    no_shows: int = 0
    skippable: bool = False


class GuardianConsentView(BaseModel):
    """One guardian's consent as recorded (vårdnadshavare 1/2: givet/återkallat)."""

    guardian: int
    status: str
    on: date
    recorded_by: str


class CaseSummary(BaseModel):
    """A case in a list: progress, what it waits on, and its risk flags."""

    id: str
    personnummer: str
    child_name: str
    municipality: str
    referral_date: date
    state: str
    days_since_referral: int
    steps_done: int
    steps_total: int
    waiting_on: list[str]
    projected_feedback: date | None
    projected_lead_time_days: int | None
    at_risk_90: bool
    at_risk_140: bool
    needs_review: list[str] = []
    paused: bool = False


class CaseView(CaseSummary):
    """Everything about one case (for those who take part in it)."""

    referring_unit: str
    pathway: str
    pathway_version: int
    guardians: int
    consenting: int
    consent: list[GuardianConsentView] = []
    team_travels: bool
    lead_time_days: int | None
    days_saved: int | None
    visit_days: int
    days_to_first_visit: int | None
    critical_path: list[str]
    steps: list[StepView]


class WorkItemView(BaseModel):
    """A step on a clinician's worklist."""

    case_id: str
    personnummer: str
    child_name: str
    step_key: str
    title: str
    state: str
    ready_on: date | None
    planned_on: date | None
    minutes: int
    joint_with: list[str]
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class ClinicianView(BaseModel):
    """A team member."""

    id: str
    name: str
    profession: str
    organisation: str
    base: str
    weekly_minutes: int
    roster: str
    daily_cap_minutes: int
    open_minutes: int


class StepChange(BaseModel):
    """What changed when a step moved (and what its bookings did)."""

    case_id: str
    step_key: str
    state: str
    case_state: str
    newly_ready: list[str]
    back_to_requested: list[str] = []
    needs_review: list[str] = []
    appointments_cancelled: int = 0
    appointments_attended: int = 0


class AuditLine(BaseModel):
    """One line of a case's audit trail (the guardian's log extract)."""

    at: datetime
    user_id: str
    role: str
    action: str
    outcome: str
    detail: str
