"""A case: one child's combined assessment, instantiated from a pathway template version.

The case aggregate owns its steps and enforces both state machines: consent before any
step, prerequisites before readiness, waiting steps that complete when their time has
passed, and the case moving to feedback-given and closed as its steps finish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from essence.domain.calendar import at_local, local_date
from essence.domain.errors import ConsentMissing, IllegalTransition, InvalidInput
from essence.domain.pathway import PathwayTemplate, StepDefinition
from essence.domain.personnummer import Personnummer
from essence.domain.professions import Profession
from essence.domain.states import (
    CaseState,
    StepState,
    check_case_transition,
    check_step_transition,
)

SYSTEM_ACTOR = "system"
MAX_NOTE_LENGTH = 500


@dataclass
class Consent:
    """Guardians' consent to the combined assessment (OSL 25:11: both guardians).

    Attributes:
        guardians: How many guardians have custody (1 or 2).
        consenting: How many of them have consented.
        recorded_on: The day the last consent was recorded.
    """

    guardians: int = 2
    consenting: int = 0
    recorded_on: date | None = None

    def __post_init__(self) -> None:
        if self.guardians not in (1, 2):
            raise InvalidInput("guardians", self.guardians, "must be 1 or 2")
        if not 0 <= self.consenting <= self.guardians:
            raise InvalidInput("consent", self.consenting, f"must be 0..{self.guardians}")

    @property
    def complete(self) -> bool:
        """True when every guardian with custody has consented."""
        return self.consenting >= self.guardians


@dataclass
class Step:
    """One step of a case: its state, who is assigned, when it happened.

    Attributes:
        key: The step's key in the case's pathway template.
        state: Current StepState.
        assignees: Clinician id per profession performing the step.
        ready_on: Day the step became ready (all prerequisites completed).
        due_on: For waiting steps: the day the waiting time has passed.
        planned_on, planned_place: The booking by the scheduler, if any.
        started_at, completed_at: Aware datetimes (Europe/Stockholm).
        completed_by: User id that completed it ("system" for waiting steps).
        outcome: Short outcome note; never personal identifiers.
        hold_reason: Why the step is on hold.
    """

    key: str
    state: StepState = StepState.REQUESTED
    assignees: dict[Profession, str] = field(default_factory=dict)
    ready_on: date | None = None
    due_on: date | None = None
    planned_on: date | None = None
    planned_place: str = ""
    started_at: datetime | None = None
    completed_at: datetime | None = None
    completed_by: str = ""
    outcome: str = ""
    hold_reason: str = ""
    resume_state: StepState | None = None

    @property
    def completed_on(self) -> date | None:
        """Local (Stockholm) date of completion, if completed."""
        return local_date(self.completed_at) if self.completed_at else None


@dataclass
class Case:
    """One child's assessment. Build new cases with `Case.open`.

    Attributes:
        id: Opaque case id (never derived from the personnummer).
        personnummer: The child's validated number; shown masked only.
        child_name: The child's name (personal data: never logged).
        municipality: Home municipality (for travel and equity).
        referring_unit: Who referred (e.g. BHV Ålidhem, BUP).
        referral_date: Day the referral was received (lead time starts here).
        template: The pathway template version the case started with (kept for life).
        consent: The guardians' consent.
        team_travels: True when the team visits the family's municipality.
        state: Current CaseState.
        steps: Steps by key, in pathway order.
        version: Optimistic-lock counter, bumped by every stored change.
    """

    id: str
    personnummer: Personnummer
    child_name: str
    municipality: str
    referring_unit: str
    referral_date: date
    template: PathwayTemplate
    consent: Consent
    team_travels: bool = False
    state: CaseState = CaseState.REFERRED
    steps: dict[str, Step] = field(default_factory=dict)
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    withdrawn_reason: str = ""
    version: int = 0

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        case_id: str,
        personnummer: Personnummer,
        child_name: str,
        municipality: str,
        referring_unit: str,
        referral_date: date,
        template: PathwayTemplate,
        consent: Consent,
        now: datetime,
        team_travels: bool = False,
    ) -> Case:
        """Open a case from a referral; with full consent its first steps become ready.

        Raises:
            InvalidInput: referral date in the future, empty name or referring unit.
        """
        today = local_date(now)
        if referral_date > today:
            raise InvalidInput("referral date", referral_date.isoformat(), "lies in the future")
        if referral_date < personnummer.birth_date:
            raise InvalidInput("referral date", referral_date.isoformat(), "is before birth")
        if not child_name.strip():
            raise InvalidInput("name", "", "must not be empty")
        if not referring_unit.strip():
            raise InvalidInput("referring unit", "", "must not be empty")
        case = cls(
            id=case_id,
            personnummer=personnummer,
            child_name=child_name.strip(),
            municipality=municipality,
            referring_unit=referring_unit.strip(),
            referral_date=referral_date,
            template=template,
            consent=consent,
            team_travels=team_travels,
            steps={key: Step(key=key) for key in template.keys},
            opened_at=now,
        )
        if consent.complete:
            case._become_consented(today)
        return case

    # --- queries --------------------------------------------------------------------------

    @property
    def birth_date(self) -> date:
        """The child's birth date, from the personnummer."""
        return self.personnummer.birth_date

    @property
    def gender(self) -> str:
        """Legal gender from the personnummer's serial (odd: boy, even: girl); for equity."""
        return "boy" if int(self.personnummer.digits[10]) % 2 else "girl"

    def age_years(self, on: date) -> int:
        """Completed years of age on `on`."""
        born = self.birth_date
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

    def step(self, key: str) -> Step:
        """The step with `key`; raises InvalidInput for a key not in the case's pathway."""
        try:
            return self.steps[key]
        except KeyError:
            raise InvalidInput("step", key, f"not a step of pathway {self.template.name}") from None

    def definition(self, key: str) -> StepDefinition:
        """The template's definition of step `key`."""
        return self.template.step(key)

    def participants(self) -> frozenset[str]:
        """Clinician ids assigned to any step: those taking part in the child's care."""
        return frozenset(cid for s in self.steps.values() for cid in s.assignees.values())

    def ready_steps(self) -> list[Step]:
        """Steps that can be started now."""
        return [s for s in self.steps.values() if s.state is StepState.READY]

    @property
    def feedback_step(self) -> Step:
        """The feedback meeting, whose date ends the lead time."""
        return self.steps[self.template.feedback_key]

    # --- consent and withdrawal ----------------------------------------------------------

    def record_consent(self, consenting: int, on: date, guardians: int | None = None) -> None:
        """Record how many guardians have consented; full consent makes first steps ready."""
        if not self.state.is_open:
            raise IllegalTransition(f"case {self.id}", self.state.value, "consent")
        self.consent = Consent(guardians or self.consent.guardians, consenting, on)
        if self.consent.complete and self.state is CaseState.REFERRED:
            self._become_consented(on)

    def withdraw(self, reason: str, now: datetime) -> None:
        """Withdraw the case (e.g. family declines); open steps are cancelled."""
        check_case_transition(f"case {self.id}", self.state, CaseState.WITHDRAWN)
        for step in self.steps.values():
            if not step.state.is_terminal:
                step.state = StepState.CANCELLED
        self.state = CaseState.WITHDRAWN
        self.withdrawn_reason = _note("reason", reason)
        self.closed_at = now

    # --- assignment -----------------------------------------------------------------------

    def assign(self, key: str, profession: Profession, clinician_id: str) -> None:
        """Assign the part of step `key` done by `profession` to a clinician."""
        step = self.step(key)
        if profession not in self.definition(key).professions:
            raise InvalidInput("profession", profession.value, f"step {key} does not need it")
        if step.state.is_terminal:
            raise IllegalTransition(f"step {key}", step.state.value, "assigned")
        step.assignees[profession] = clinician_id

    # --- step transitions ----------------------------------------------------------------

    def start_step(self, key: str, now: datetime) -> Step:
        """Start a ready (or held) step; the case moves to assessing."""
        self._require_consent()
        step = self.step(key)
        check_step_transition(f"step {key}", step.state, StepState.IN_PROGRESS)
        step.state = StepState.IN_PROGRESS
        step.started_at = now
        step.hold_reason = ""
        self._mark_assessing()
        return step

    def complete_step(self, key: str, now: datetime, by: str, outcome: str = "") -> list[str]:
        """Complete a ready or in-progress step and make its successors ready.

        Returns:
            Keys of the steps that became ready because of this completion.
        """
        self._require_consent()
        step = self.step(key)
        check_step_transition(f"step {key}", step.state, StepState.COMPLETED)
        step.state = StepState.COMPLETED
        step.started_at = step.started_at or now
        step.completed_at = now
        step.completed_by = by
        step.outcome = _note("outcome", outcome)
        self._mark_assessing()
        newly_ready = self._release_successors(key, local_date(now))
        self._update_case_state(now)
        return newly_ready

    def hold_step(self, key: str, reason: str) -> Step:
        """Put a ready or in-progress step on hold with a reason."""
        step = self.step(key)
        if not reason.strip():
            raise InvalidInput("reason", "", "a hold needs a reason")
        check_step_transition(f"step {key}", step.state, StepState.ON_HOLD)
        step.resume_state = step.state
        step.state = StepState.ON_HOLD
        step.hold_reason = _note("reason", reason)
        return step

    def resume_step(self, key: str) -> Step:
        """Take a step off hold, back to the state it had."""
        step = self.step(key)
        target = step.resume_state or StepState.READY
        check_step_transition(f"step {key}", step.state, target)
        step.state = target
        step.resume_state = None
        step.hold_reason = ""
        return step

    def cancel_step(self, key: str, now: datetime, reason: str) -> list[str]:
        """Cancel a step that is not needed; successors no longer wait for it."""
        step = self.step(key)
        if key == self.template.feedback_key:
            raise IllegalTransition(
                f"step {key}", step.state.value, "cancelled", "withdraw the case instead"
            )
        check_step_transition(f"step {key}", step.state, StepState.CANCELLED)
        step.state = StepState.CANCELLED
        step.outcome = _note("reason", reason)
        newly_ready = self._release_successors(key, local_date(now))
        self._update_case_state(now)
        return newly_ready

    def advance(self, today: date) -> list[str]:
        """Complete waiting steps whose time has passed, as of `today`, cascading.

        Returns:
            Keys of the waiting steps that completed.
        """
        completed: list[str] = []
        if self.state not in (CaseState.CONSENTED, CaseState.ASSESSING):
            return completed
        progressed = True
        while progressed:
            progressed = False
            for step in self.steps.values():
                due = step.due_on
                if step.state is StepState.READY and due is not None and due <= today:
                    self.complete_step(
                        step.key, at_local(due, 8), SYSTEM_ACTOR, "waiting time passed"
                    )
                    completed.append(step.key)
                    progressed = True
        return completed

    # --- internals ------------------------------------------------------------------------

    def _require_consent(self) -> None:
        if not self.consent.complete or self.state is CaseState.REFERRED:
            raise ConsentMissing(self.id)
        if not self.state.is_open:
            raise IllegalTransition(f"case {self.id}", self.state.value, "change a step")

    def _become_consented(self, on: date) -> None:
        check_case_transition(f"case {self.id}", self.state, CaseState.CONSENTED)
        self.state = CaseState.CONSENTED
        for definition in self.template.steps:
            if not definition.requires:
                self._make_ready(self.steps[definition.key], max(on, self.referral_date))

    def _make_ready(self, step: Step, on: date) -> None:
        check_step_transition(f"step {step.key}", step.state, StepState.READY)
        step.state = StepState.READY
        step.ready_on = on
        wait = self.definition(step.key).wait_days
        step.due_on = on + timedelta(days=wait) if self.definition(step.key).is_waiting else None

    def _release_successors(self, key: str, on: date) -> list[str]:
        released: list[str] = []
        for successor_key in self.template.successors(key):
            successor = self.steps[successor_key]
            if successor.state is not StepState.REQUESTED:
                continue
            prerequisites = self.definition(successor_key).requires
            if all(
                self.steps[p].state in (StepState.COMPLETED, StepState.CANCELLED)
                for p in prerequisites
            ):
                self._make_ready(successor, on)
                released.append(successor_key)
        return released

    def _mark_assessing(self) -> None:
        if self.state is CaseState.CONSENTED:
            self.state = CaseState.ASSESSING

    def _update_case_state(self, now: datetime) -> None:
        if self.state is CaseState.ASSESSING and self.feedback_step.state is StepState.COMPLETED:
            self.state = CaseState.FEEDBACK_GIVEN
        if self.state is CaseState.FEEDBACK_GIVEN and all(
            s.state.is_terminal for s in self.steps.values()
        ):
            self.state = CaseState.CLOSED
            self.closed_at = now


def _note(field_name: str, text: str) -> str:
    cleaned = " ".join(text.split())
    if len(cleaned) > MAX_NOTE_LENGTH:
        raise InvalidInput(field_name, f"{len(cleaned)} characters", f"at most {MAX_NOTE_LENGTH}")
    return cleaned
