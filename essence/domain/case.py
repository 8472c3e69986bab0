"""A case: one child's combined assessment, instantiated from a pathway template version.

The case aggregate owns its steps and enforces both state machines: consent of every
guardian with custody before any step (a withdrawal pauses the case), prerequisites before
readiness (a cancelled step satisfies its successors only once its own prerequisites are
satisfied), waiting steps that complete when their time has passed, corrections of
entries made in error, and the case moving to feedback-given and closed as steps finish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from essence.domain.calendar import at_local, local_date
from essence.domain.errors import ConsentMissing, IllegalTransition, InvalidInput
from essence.domain.messages import N_, Text
from essence.domain.pathway import PathwayTemplate, StepDefinition
from essence.domain.personnummer import Personnummer
from essence.domain.professions import Profession
from essence.domain.states import (
    ACTIVE_CASE_STATES,
    REVERTIBLE_STEP_STATES,
    CaseState,
    StepState,
    check_case_transition,
    check_step_transition,
)

SYSTEM_ACTOR = "system"
MAX_NOTE_LENGTH = 500
MAX_AGE_AT_REFERRAL = 17
OPEN_STEP_STATES = frozenset(
    {StepState.REQUESTED, StepState.READY, StepState.IN_PROGRESS, StepState.ON_HOLD}
)


class ConsentStatus(StrEnum):
    """What one guardian said: consent given, or withdrawn (samtycke givet/återkallat)."""

    GIVEN = "given"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class GuardianConsent:
    """One guardian's consent as recorded.

    Attributes:
        guardian: Which guardian (1 or 2; vårdnadshavare 1/2).
        status: Given or withdrawn.
        on: The day the guardian gave or withdrew it.
        recorded_by: User id of whoever recorded it.
        recorded_at: When it was recorded (aware), if known.
    """

    guardian: int
    status: ConsentStatus
    on: date
    recorded_by: str = ""
    recorded_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.guardian not in (1, 2):
            raise InvalidInput("guardian", self.guardian, N_("must be 1 or 2"))

    @property
    def given(self) -> bool:
        """True when this guardian's consent is in."""
        return self.status is ConsentStatus.GIVEN


@dataclass
class Consent:
    """Guardians' consent to the combined assessment, per guardian (OSL 25:11).

    Attributes:
        guardians: How many guardians have custody (1 = sole custody, or 2).
        records: The latest record per guardian (1, 2); a guardian without one has not
            answered yet.
    """

    guardians: int = 2
    records: dict[int, GuardianConsent] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.guardians not in (1, 2):
            raise InvalidInput("guardians", self.guardians, N_("must be 1 or 2"))
        for number, record in self.records.items():
            if number != record.guardian:
                raise InvalidInput("guardian", number, N_("record filed under another guardian"))

    @classmethod
    def given_by(cls, guardians: int, consenting: int, on: date, recorded_by: str = "") -> Consent:
        """Consent given by guardians 1..`consenting` on `on` (0: nobody yet).

        Raises:
            InvalidInput: `consenting` outside 0..`guardians`.
        """
        if not 0 <= consenting <= guardians:
            raise InvalidInput("consent", consenting, N_("must be 0..%(most)s", most=guardians))
        records = {
            g: GuardianConsent(g, ConsentStatus.GIVEN, on, recorded_by)
            for g in range(1, consenting + 1)
        }
        return cls(guardians, records)

    def _current(self) -> list[GuardianConsent]:
        return [r for g, r in sorted(self.records.items()) if g <= self.guardians]

    @property
    def consenting(self) -> int:
        """How many guardians with custody have consent given now."""
        return sum(1 for r in self._current() if r.given)

    @property
    def withdrawn(self) -> bool:
        """True when a guardian with custody has withdrawn consent."""
        return any(not r.given for r in self._current())

    @property
    def complete(self) -> bool:
        """True when every guardian with custody has consented."""
        return self.consenting >= self.guardians

    @property
    def recorded_on(self) -> date | None:
        """The day of the latest record (None before any)."""
        days = [r.on for r in self._current()]
        return max(days) if days else None

    def describe(self) -> str:
        """E.g. ``1 of 2`` guardians consenting."""
        return f"{self.consenting} of {self.guardians}"


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
        outcome: Short outcome note (or why it was cancelled); never personal identifiers.
        hold_reason: Why the step is on hold.
        resume_state: The state a held step returns to.
        needs_review: Set when a prerequisite of this started or completed step was
            corrected (reverted) after it: a coordinator should look at it again.
        no_shows: Appointments of this step the family missed (counted in the metrics).
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
    needs_review: bool = False
    no_shows: int = 0

    @property
    def is_open(self) -> bool:
        """True until the step is completed, cancelled or entered in error."""
        return self.state in OPEN_STEP_STATES

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
        paused_from: While paused (consent withdrawn): the state the case returns to.
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
    paused_from: CaseState | None = None

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
            InvalidInput: referral date in the future, a child not 0–17 years old at
                referral, empty name or referring unit.
        """
        today = local_date(now)
        if referral_date > today:
            raise InvalidInput("referral date", referral_date.isoformat(), N_("lies in the future"))
        if referral_date < personnummer.birth_date:
            raise InvalidInput("referral date", referral_date.isoformat(), N_("is before birth"))
        born = personnummer.birth_date
        age = (
            referral_date.year
            - born.year
            - ((referral_date.month, referral_date.day) < (born.month, born.day))
        )
        if age > MAX_AGE_AT_REFERRAL:
            raise InvalidInput(
                "personnummer",
                N_("age %(age)s at referral", age=age),
                N_("the child must be 0–%(most)s years old", most=MAX_AGE_AT_REFERRAL),
            )
        if not child_name.strip():
            raise InvalidInput("name", "", N_("must not be empty"))
        if not referring_unit.strip():
            raise InvalidInput("referring unit", "", N_("must not be empty"))
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
            raise InvalidInput(
                "step", key, N_("not a step of pathway %(pathway)s", pathway=self.template.name)
            ) from None

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

    @property
    def paused(self) -> bool:
        """True while the case waits for a withdrawn consent to be given again."""
        return self.state is CaseState.PAUSED

    def satisfied(self, key: str) -> bool:
        """True when step `key` no longer holds up its successors.

        A completed step is satisfied; a cancelled step ("not needed") only once its own
        prerequisites are satisfied, so nothing jumps ahead of work that has not happened.
        """
        step = self.steps[key]
        if step.state is StepState.COMPLETED:
            return True
        if step.state is StepState.CANCELLED:
            return all(self.satisfied(p) for p in self.definition(key).requires)
        return False

    def prerequisites_satisfied(self, key: str) -> bool:
        """True when every prerequisite of step `key` is satisfied."""
        return all(self.satisfied(p) for p in self.definition(key).requires)

    def consent_covers(self, key: str) -> bool:
        """True when the recorded consent allows step `key` to start or be done.

        Every step needs the consent of every guardian with custody; steps that share data
        with the municipality (preschool, SIP; `needs_consent_to_share`) need it from both
        guardians unless one has sole custody (OSL 25:11). A paused case allows nothing.
        """
        if self.state in (CaseState.REFERRED, CaseState.PAUSED) or not self.consent.complete:
            return False
        if self.definition(key).needs_consent_to_share:
            return self.consent.consenting >= self.consent.guardians
        return True

    def open_steps(self) -> list[Step]:
        """Steps not yet completed, cancelled or entered in error."""
        return [s for s in self.steps.values() if s.is_open]

    # --- consent and withdrawal ----------------------------------------------------------

    def record_guardian_consent(
        self,
        guardian: int,
        given: bool,
        on: date,
        by: str = "",
        *,
        now: datetime | None = None,
        guardians: int | None = None,
    ) -> str:
        """Record one guardian's consent given or withdrawn.

        Full consent makes the first steps ready (or resumes a paused case); a withdrawal
        (or missing consent after custody changed) pauses a working case: no step may
        start or be completed until consent is given again.

        Args:
            guardian: 1 or 2.
            given: True for consent given, False for withdrawn.
            on: The day the guardian said so.
            by: User id recording it.
            now: When it was recorded.
            guardians: Guardians with custody, when it changes (1 = sole custody).

        Returns:
            What happened to the case: "consented", "paused", "resumed" or "" (nothing).

        Raises:
            IllegalTransition: the case is closed or withdrawn.
            InvalidInput: a guardian number beyond the guardians with custody.
        """
        if not self.state.is_open:
            raise IllegalTransition(f"case {self.id}", self.state.value, "consent")
        custody = guardians if guardians is not None else self.consent.guardians
        if guardian not in (1, 2) or guardian > custody:
            raise InvalidInput(
                "guardian",
                guardian,
                N_("sole custody: only guardian 1") if custody == 1 else N_("must be 1 or 2"),
            )
        status = ConsentStatus.GIVEN if given else ConsentStatus.WITHDRAWN
        records = dict(self.consent.records)
        records[guardian] = GuardianConsent(guardian, status, on, by, now)
        self.consent = Consent(custody, records)
        return self._apply_consent(on)

    def record_consent(
        self, consenting: int, on: date, guardians: int | None = None, by: str = ""
    ) -> str:
        """Shorthand: guardians 1..`consenting` have consent given; any other guardian who
        had given it has withdrawn it. Returns what happened, as `record_guardian_consent`."""
        if not self.state.is_open:
            raise IllegalTransition(f"case {self.id}", self.state.value, "consent")
        custody = guardians if guardians is not None else self.consent.guardians
        if custody not in (1, 2):
            raise InvalidInput("guardians", custody, N_("must be 1 or 2"))
        if not 0 <= consenting <= custody:
            raise InvalidInput("consent", consenting, N_("must be 0..%(most)s", most=custody))
        records = dict(self.consent.records)
        for number in range(1, custody + 1):
            if number <= consenting:
                records[number] = GuardianConsent(number, ConsentStatus.GIVEN, on, by)
            elif number in records and records[number].given:
                records[number] = GuardianConsent(number, ConsentStatus.WITHDRAWN, on, by)
        self.consent = Consent(custody, records)
        return self._apply_consent(on)

    def _apply_consent(self, on: date) -> str:
        if self.consent.complete:
            if self.state is CaseState.REFERRED:
                self._become_consented(on)
                return "consented"
            if self.state is CaseState.PAUSED:
                target = self.paused_from or CaseState.CONSENTED
                check_case_transition(f"case {self.id}", self.state, target)
                self.state, self.paused_from = target, None
                return "resumed"
            return ""
        if self.state in ACTIVE_CASE_STATES:
            check_case_transition(f"case {self.id}", self.state, CaseState.PAUSED)
            self.paused_from, self.state = self.state, CaseState.PAUSED
            for step in self.steps.values():
                step.planned_on, step.planned_place = None, ""
            return "paused"
        return ""

    def withdraw(self, reason: str, now: datetime) -> None:
        """Withdraw the case (e.g. family declines); open steps are cancelled."""
        check_case_transition(f"case {self.id}", self.state, CaseState.WITHDRAWN)
        for step in self.steps.values():
            if not step.state.is_terminal:
                step.state = StepState.CANCELLED
                step.resume_state = None
            step.planned_on, step.planned_place = None, ""
        self.state = CaseState.WITHDRAWN
        self.paused_from = None
        self.withdrawn_reason = _note("reason", reason)
        self.closed_at = now

    # --- assignment -----------------------------------------------------------------------

    def assign(self, key: str, profession: Profession, clinician_id: str) -> None:
        """Assign the part of step `key` done by `profession` to a clinician."""
        step = self.step(key)
        if profession not in self.definition(key).professions:
            raise InvalidInput(
                "profession", profession.value, N_("step %(step)s does not need it", step=key)
            )
        if step.state.is_terminal:
            raise IllegalTransition(f"step {key}", step.state.value, "assigned")
        step.assignees[profession] = clinician_id

    # --- step transitions ----------------------------------------------------------------

    def start_step(self, key: str, now: datetime) -> Step:
        """Start a ready (or held) step; the case moves to assessing."""
        step = self.step(key)
        self._require_consent(key)
        check_step_transition(f"step {key}", step.state, StepState.IN_PROGRESS)
        step.state = StepState.IN_PROGRESS
        step.started_at = now
        step.hold_reason = ""
        self._mark_assessing()
        return step

    def complete_step(self, key: str, now: datetime, by: str, outcome: str = "") -> list[str]:
        """Complete a ready or in-progress step and make its successors ready.

        A step started before one of its prerequisites was reverted (flagged "needs
        review") cannot be completed until that prerequisite is satisfied again: work
        never finishes ahead of what it depends on.

        Returns:
            Keys of the steps that became ready because of this completion.

        Raises:
            IllegalTransition: the step is not ready or in progress, or a prerequisite
                is not satisfied.
        """
        step = self.step(key)
        self._require_consent(key)
        check_step_transition(f"step {key}", step.state, StepState.COMPLETED)
        if not self.prerequisites_satisfied(key):
            raise IllegalTransition(
                f"step {key}",
                step.state.value,
                StepState.COMPLETED.value,
                N_("a prerequisite was corrected and is not done again yet"),
            )
        step.state = StepState.COMPLETED
        step.started_at = step.started_at or now
        step.completed_at = now
        step.completed_by = by
        step.outcome = _note("outcome", outcome)
        step.resume_state = None
        step.planned_on, step.planned_place = None, ""
        self._mark_assessing()
        newly_ready = self._refresh(local_date(now))
        self._update_case_state(now)
        return newly_ready

    def hold_step(self, key: str, reason: str) -> Step:
        """Put a ready or in-progress step on hold with a reason."""
        step = self.step(key)
        if not reason.strip():
            raise InvalidInput("reason", "", N_("a hold needs a reason"))
        check_step_transition(f"step {key}", step.state, StepState.ON_HOLD)
        step.resume_state = step.state
        step.state = StepState.ON_HOLD
        step.hold_reason = _note("reason", reason)
        return step

    def resume_step(self, key: str) -> Step:
        """Take a step off hold, back to the state it had (only a held step resumes: a
        requested step must wait for its prerequisites and consent)."""
        step = self.step(key)
        if step.state is not StepState.ON_HOLD:
            raise IllegalTransition(
                f"step {key}", step.state.value, "resumed", N_("it is not on hold")
            )
        target = step.resume_state or StepState.READY
        check_step_transition(f"step {key}", step.state, target)
        step.state = target
        step.resume_state = None
        step.hold_reason = ""
        return step

    def cancel_step(self, key: str, now: datetime, reason: str) -> list[str]:
        """Cancel a step this child does not need ("not needed"), after consent.

        Only steps the pathway marks `skippable`; the cancelled step satisfies its
        successors once its own prerequisites are satisfied.

        Returns:
            Keys of the steps that became ready because of it.

        Raises:
            IllegalTransition: the step is not skippable (withdraw the case instead), or
                already completed or cancelled.
            ConsentMissing: consent is not in (or withdrawn).
            InvalidInput: an empty reason.
        """
        step = self.step(key)
        if not self.definition(key).skippable:
            raise IllegalTransition(
                f"step {key}",
                step.state.value,
                "cancelled",
                N_("every assessment needs it; withdraw the case instead"),
            )
        if not reason.strip():
            raise InvalidInput("reason", "", N_("a cancellation needs a reason"))
        self._require_consent(key)
        check_step_transition(f"step {key}", step.state, StepState.CANCELLED)
        step.state = StepState.CANCELLED
        step.outcome = _note("reason", reason)
        step.resume_state, step.hold_reason = None, ""
        step.planned_on, step.planned_place = None, ""
        newly_ready = self._refresh(local_date(now))
        self._update_case_state(now)
        return newly_ready

    def revert_step(self, key: str, now: datetime, reason: str) -> RevertResult:
        """Mark a completion or cancellation as entered in error (a correction).

        The step goes back to ready (or requested when its prerequisites are not
        satisfied); successors that have not started go back to requested; started or
        completed steps after it are flagged "needs review". Reverting the feedback
        meeting makes the lead time undefined again (the case goes back to assessing).

        Raises:
            IllegalTransition: the case is closed or withdrawn, or the step is neither
                completed nor cancelled.
            InvalidInput: an empty reason.
        """
        step = self.step(key)
        if not self.state.is_open:
            raise IllegalTransition(f"case {self.id}", self.state.value, "correct a step")
        if step.state not in REVERTIBLE_STEP_STATES:
            raise IllegalTransition(
                f"step {key}",
                step.state.value,
                "entered-in-error",
                N_("only a completion or a cancellation can be reverted"),
            )
        if not reason.strip():
            raise InvalidInput("reason", "", N_("a correction needs a reason"))
        today = local_date(now)
        before = {k: s.state for k, s in self.steps.items()}
        step.state = StepState.REQUESTED
        step.started_at = step.completed_at = None
        step.completed_by, step.outcome, step.hold_reason = "", "", ""
        step.resume_state, step.needs_review = None, False
        step.ready_on = step.due_on = None
        step.planned_on, step.planned_place = None, ""
        flagged = self._flag_descendants(key)
        self._refresh(today)
        self._undo_feedback_state()
        requested = [
            k
            for k, s in self.steps.items()
            if k != key and s.state is StepState.REQUESTED and before[k] is not StepState.REQUESTED
        ]
        return RevertResult(step.state.value, requested, flagged)

    def mark_reviewed(self, key: str) -> Step:
        """Clear a step's "needs review" flag once a coordinator has looked at it."""
        step = self.step(key)
        if not step.needs_review:
            raise InvalidInput("step", key, N_("is not flagged for review"))
        step.needs_review = False
        return step

    def record_no_show(self, key: str) -> Step:
        """The family missed the step's appointment: count it; the step stays open and is
        free to be booked again.

        Raises:
            IllegalTransition: the case or the step is no longer open.
        """
        step = self.step(key)
        if not self.state.is_open:
            raise IllegalTransition(f"case {self.id}", self.state.value, "record a no-show")
        if not step.is_open:
            raise IllegalTransition(f"step {key}", step.state.value, "no-show")
        step.no_shows += 1
        step.planned_on, step.planned_place = None, ""
        return step

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

    def _require_consent(self, key: str) -> None:
        if not self.state.is_open:
            raise IllegalTransition(f"case {self.id}", self.state.value, "change a step")
        if not self.consent_covers(key):
            raise ConsentMissing(self.id, self._consent_detail(key))

    def _consent_detail(self, key: str) -> Text:
        counts = {"consenting": self.consent.consenting, "guardians": self.consent.guardians}
        shares = self.definition(key).needs_consent_to_share
        if self.paused and shares:
            return N_(
                "consent withdrawn, case paused; %(consenting)s of %(guardians)s guardians "
                "consenting; step shares data with the municipality",
                **counts,
            )
        if self.paused:
            return N_(
                "consent withdrawn, case paused; %(consenting)s of %(guardians)s guardians "
                "consenting",
                **counts,
            )
        if shares:
            return N_(
                "%(consenting)s of %(guardians)s guardians consenting; step shares data with "
                "the municipality",
                **counts,
            )
        return N_("%(consenting)s of %(guardians)s guardians consenting", **counts)

    def _become_consented(self, on: date) -> None:
        check_case_transition(f"case {self.id}", self.state, CaseState.CONSENTED)
        self.state = CaseState.CONSENTED
        self._refresh(max(on, self.referral_date))

    def _make_ready(self, step: Step, on: date) -> None:
        check_step_transition(f"step {step.key}", step.state, StepState.READY)
        step.state = StepState.READY
        step.ready_on = on
        wait = self.definition(step.key).wait_days
        step.due_on = on + timedelta(days=wait) if self.definition(step.key).is_waiting else None

    def _refresh(self, on: date) -> list[str]:
        """Bring readiness in line with rule 1, in pathway order.

        Requested steps whose prerequisites are satisfied become ready (once the case has
        been consented); ready steps, or steps held before they started, whose
        prerequisites are no longer satisfied (after a correction) go back to requested.

        Returns:
            Keys of the steps that became ready.
        """
        released: list[str] = []
        if self.state is CaseState.REFERRED or not self.state.is_open:
            return released
        for key in self.template.topological_order():
            step = self.steps[key]
            satisfied = self.prerequisites_satisfied(key)
            held_unstarted = (
                step.state is StepState.ON_HOLD and step.resume_state is not StepState.IN_PROGRESS
            )
            if step.state is StepState.REQUESTED and satisfied:
                self._make_ready(step, on)
                released.append(key)
            elif (step.state is StepState.READY or held_unstarted) and not satisfied:
                step.state, step.resume_state, step.hold_reason = StepState.REQUESTED, None, ""
                step.ready_on = step.due_on = None
                step.planned_on, step.planned_place = None, ""
        return released

    def _flag_descendants(self, key: str) -> list[str]:
        """Flag every started or completed step after `key` as needing review."""
        flagged: list[str] = []
        for current in self.template.descendants(key):
            step = self.steps[current]
            started = step.state in (StepState.IN_PROGRESS, StepState.COMPLETED) or (
                step.state is StepState.ON_HOLD and step.resume_state is StepState.IN_PROGRESS
            )
            if started and not step.needs_review:
                step.needs_review = True
                flagged.append(current)
        return flagged

    def _undo_feedback_state(self) -> None:
        if self.feedback_step.state is StepState.COMPLETED:
            return
        if self.state is CaseState.FEEDBACK_GIVEN:
            check_case_transition(f"case {self.id}", self.state, CaseState.ASSESSING)
            self.state = CaseState.ASSESSING
        if self.paused_from is CaseState.FEEDBACK_GIVEN:
            self.paused_from = CaseState.ASSESSING

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


@dataclass(frozen=True)
class RevertResult:
    """What a correction did.

    Attributes:
        state: The reverted step's new state (ready or requested).
        back_to_requested: Other steps that went back to requested.
        needs_review: Started or completed steps after it, now flagged for review.
    """

    state: str
    back_to_requested: list[str]
    needs_review: list[str]


def _note(field_name: str, text: str) -> str:
    cleaned = " ".join(text.split())
    if len(cleaned) > MAX_NOTE_LENGTH:
        raise InvalidInput(
            field_name,
            N_("%(count)s characters", count=len(cleaned)),
            N_("at most %(most)s", most=MAX_NOTE_LENGTH),
        )
    return cleaned
