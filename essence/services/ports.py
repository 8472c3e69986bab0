"""What the services need from persistence: repository and unit-of-work interfaces.

Adapters implement these over SQLModel sessions; services depend only on this module,
so one use case is one transaction whatever database sits behind it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from types import TracebackType
from typing import TYPE_CHECKING

from essence.domain.access import User
from essence.domain.case import Case
from essence.domain.family import FamilyNeeds
from essence.domain.pathway import PathwayTemplate
from essence.domain.personnummer import Personnummer
from essence.domain.team import Absence, Clinician
from essence.services.ops_ports import OpsQueries

if TYPE_CHECKING:  # the scheduler (and OR-Tools) load only when planning
    from essence.scheduling.clinic_problem import Appointment


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit log; `detail` never holds personal data."""

    at: datetime
    user_id: str
    role: str
    action: str
    case_id: str | None
    outcome: str
    detail: str = ""
    request_id: str | None = None


@dataclass(frozen=True)
class WorkItem:
    """A step on a clinician's worklist, with what the clinician needs to see (read in one
    query: a worklist never needs the whole case).

    Attributes:
        template: The case's pathway template (the step's title and minutes).
        assignees: Every clinician assigned to the step, the worklist's owner included.
    """

    case_id: str
    step_key: str
    state: str
    ready_on: date | None
    planned_on: date | None
    child_name: str
    personnummer: Personnummer
    template: PathwayTemplate
    assignees: tuple[str, ...]


class CaseRepository(ABC):
    """Cases as domain aggregates."""

    @abstractmethod
    def add(self, case: Case) -> None:
        """Store a new case."""

    @abstractmethod
    def get(self, case_id: str) -> Case:
        """Load one case; raises NotFound("case", id)."""

    @abstractmethod
    def save(self, case: Case) -> None:
        """Write a changed case; raises ConcurrencyConflict when someone else changed it."""

    @abstractmethod
    def list(self, *, open_only: bool = False, ids: Iterable[str] | None = None) -> list[Case]:
        """Load many cases (all, only open ones, or the given ids)."""

    @abstractmethod
    def versions(self, ids: Iterable[str]) -> dict[str, int]:
        """The current version of each given case that exists (without loading it)."""

    @abstractmethod
    def ids_for_clinician(self, clinician_id: str) -> list[str]:
        """Ids of the cases in which the clinician has an assigned step."""

    @abstractmethod
    def worklist(
        self, clinician_id: str, states: Iterable[str], booked_until: date | None = None
    ) -> list[WorkItem]:
        """Steps assigned to a clinician in the given states, plus (with `booked_until`)
        requested steps booked on or before that day; earliest first."""

    @abstractmethod
    def open_minutes_by_clinician(self) -> dict[str, int]:
        """Minutes of not-yet-finished steps assigned to each clinician (for load balancing)."""

    @abstractmethod
    def exists_with_personnummer(self, digits: str) -> str | None:
        """The id of an open case for this child, if any (avoids duplicate referrals)."""


class CaseLists(ABC):
    """Cases read for a list: what a case's line shows, without the whole aggregate."""

    @abstractmethod
    def cases(
        self,
        *,
        open_only: bool = False,
        ids: Iterable[str] | None = None,
        municipality: str | None = None,
    ) -> list[Case]:
        """Cases as a list reads them, oldest referral first (all, only open ones, only
        the given ids, only from one home municipality).

        Each case has every step's state, dates and review flag (what the projection of
        the feedback date needs), the assignees of the steps that can be worked on now
        (ready, in progress, on hold) and the guardians' consent; outcomes, notes, when a
        step started and who completed it are left out. They are for reading: the
        repository cannot save them (load a case from `CaseRepository` to change it).
        """


class ClinicianRepository(ABC):
    """The team."""

    @abstractmethod
    def add(self, clinician: Clinician) -> None:
        """Store a new clinician."""

    @abstractmethod
    def get(self, clinician_id: str) -> Clinician:
        """Load one clinician with absences; raises NotFound("clinician", id)."""

    @abstractmethod
    def list(self, *, active_only: bool = True) -> list[Clinician]:
        """All clinicians."""

    @abstractmethod
    def add_absence(self, clinician_id: str, absence: Absence) -> None:
        """Record an absence."""


class PathwayRepository(ABC):
    """Versioned pathway templates."""

    @abstractmethod
    def add(self, template: PathwayTemplate) -> None:
        """Store a template version; raises InvalidInput if that version exists differently."""

    @abstractmethod
    def get(self, name: str, version: int | None = None) -> PathwayTemplate:
        """One version (the newest when `version` is None); raises NotFound."""

    @abstractmethod
    def list(self) -> list[PathwayTemplate]:
        """Every stored version."""


class UserRepository(ABC):
    """Users and their roles."""

    @abstractmethod
    def add(self, user: User) -> None:
        """Store a new user."""

    @abstractmethod
    def get(self, user_id: str) -> User:
        """Load one user; raises NotFound("user", id)."""

    @abstractmethod
    def list(self) -> list[User]:
        """All users."""

    @abstractmethod
    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Store a login's password hash (never the password); raises NotFound("user", id)."""

    @abstractmethod
    def password_hash(self, user_id: str) -> str | None:
        """The stored password hash of a login (None when it has none); raises NotFound."""


class AuditLog(ABC):
    """Append-only audit log."""

    @abstractmethod
    def record(self, events: Iterable[AuditEvent]) -> None:
        """Append events."""

    @abstractmethod
    def for_case(self, case_id: str) -> list[AuditEvent]:
        """Every event about one case, oldest first (the guardian's log extract)."""


class AppointmentStatus(StrEnum):
    """What became of an appointment (bokad, genomförd, inställd, uteblev)."""

    BOOKED = "booked"
    ATTENDED = "attended"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class AppointmentRepository(ABC):
    """Appointments of the combined investigation: booked ones and their history.

    Rows are never deleted: a booking no longer wanted is cancelled with a higher
    iCalendar SEQUENCE, so calendar clients remove it.
    """

    @abstractmethod
    def list(
        self,
        *,
        case_ids: Iterable[str] | None = None,
        first_day: date | None = None,
        last_day: date | None = None,
        statuses: Iterable[str] | None = (AppointmentStatus.BOOKED.value,),
    ) -> list[Appointment]:
        """Appointments, optionally of some cases, within days (both included) and with
        some statuses (booked only by default; None for every status)."""

    @abstractmethod
    def book(self, appointment: Appointment, now: datetime) -> None:
        """Store a new booked appointment (the step must have no other booked one)."""

    @abstractmethod
    def sync(self, case_id: str, wanted: Iterable[Appointment], now: datetime) -> int:
        """Make `wanted` the booked appointments of one case: identical bookings stay
        untouched, a booking with the same clinicians moves (SEQUENCE + 1), any other is
        cancelled and the new one booked. Returns how many rows changed (0: nothing)."""

    @abstractmethod
    def mark(
        self,
        case_id: str,
        step_key: str,
        status: AppointmentStatus,
        now: datetime,
        *,
        on: date | None = None,
    ) -> int:
        """Give the step's booked appointment a new status (attended: moved to the real
        day `on`, no-show, cancelled). Returns how many were changed (0 or 1)."""

    @abstractmethod
    def cancel_booked(
        self, case_id: str, now: datetime, step_keys: Iterable[str] | None = None
    ) -> int:
        """Cancel the booked appointments of a case (or of some of its steps); returns
        how many were cancelled."""


class FamilyNeedsRepository(ABC):
    """What each family needs from the plan (no row: nothing asked for)."""

    @abstractmethod
    def get(self, case_id: str) -> FamilyNeeds:
        """The needs of one case (empty `FamilyNeeds` when none are stored)."""

    @abstractmethod
    def for_cases(self, case_ids: Iterable[str]) -> dict[str, FamilyNeeds]:
        """The stored needs of several cases, by case id (cases without needs are absent)."""

    @abstractmethod
    def put(self, case_id: str, needs: FamilyNeeds) -> None:
        """Store the needs of a case (empty needs remove the row)."""


@dataclass(frozen=True)
class ReferralOrigin:
    """Where an imported referral came from: the region's ServiceRequest and the guardians.

    Kept so the care plan sent back names the same request (FHIR `basedOn`).

    Attributes:
        request_system, request_value: The ServiceRequest's identifier in the sender's system.
        reason: Why the child was referred (free text or the coding's display).
        requester: The referring organisation's name.
        requester_identifier: Its identifier (e.g. an HSA id), if given.
        authored_at: When the referral was written (aware datetime).
        guardians: (name, relationship) of each guardian named in the referral.
        consenting: How many of them had consented when the referral was sent.
    """

    request_system: str
    request_value: str
    reason: str
    requester: str
    requester_identifier: str
    authored_at: datetime
    guardians: tuple[tuple[str, str], ...] = ()
    consenting: int = 0


class ReferralOriginRepository(ABC):
    """The region's referral behind an imported case (one per case)."""

    @abstractmethod
    def add(self, case_id: str, origin: ReferralOrigin) -> None:
        """Store the origin of a newly opened case."""

    @abstractmethod
    def get(self, case_id: str) -> ReferralOrigin | None:
        """The origin of a case, or None when it was opened by hand."""

    @abstractmethod
    def case_for_request(self, system: str, value: str) -> str | None:
        """The case already opened from this ServiceRequest identifier, if any."""


class UnitOfWork(ABC):
    """One transaction: `with uow: ...; uow.commit()`; leaving without commit rolls back."""

    cases: CaseRepository
    case_lists: CaseLists
    clinicians: ClinicianRepository
    pathways: PathwayRepository
    users: UserRepository
    audit: AuditLog
    appointments: AppointmentRepository
    referral_origins: ReferralOriginRepository
    family_needs: FamilyNeedsRepository
    ops: OpsQueries

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.rollback()

    @abstractmethod
    def commit(self) -> None:
        """Make every change of this unit durable at once."""

    @abstractmethod
    def rollback(self) -> None:
        """Discard uncommitted changes (safe to call after commit)."""
