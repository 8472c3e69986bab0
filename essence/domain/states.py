"""State machines of steps (FHIR Task-style) and cases.

Steps: requested → ready → in-progress → completed, plus on-hold, cancelled and
entered-in-error. Cases: referred → consented → assessing → feedback-given → closed,
plus withdrawn, and paused while a guardian's consent is withdrawn. A correction
(`Case.revert_step`) may take a completed or cancelled step back to ready or requested and
a case from feedback-given back to assessing. An illegal transition is an error, never a
silent no-op.
"""

from __future__ import annotations

from enum import StrEnum

from essence.domain.errors import IllegalTransition
from essence.domain.messages import N_


class StepState(StrEnum):
    """States of one step, named as in FHIR Task.status where they fit."""

    REQUESTED = "requested"
    READY = "ready"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ENTERED_IN_ERROR = "entered-in-error"

    @property
    def is_terminal(self) -> bool:
        """True for completed, cancelled and entered-in-error."""
        return self in TERMINAL_STEP_STATES


TERMINAL_STEP_STATES = frozenset(
    {StepState.COMPLETED, StepState.CANCELLED, StepState.ENTERED_IN_ERROR}
)

STEP_TRANSITIONS: dict[StepState, frozenset[StepState]] = {
    StepState.REQUESTED: frozenset(
        {StepState.READY, StepState.CANCELLED, StepState.ENTERED_IN_ERROR}
    ),
    StepState.READY: frozenset(
        {
            StepState.IN_PROGRESS,
            StepState.ON_HOLD,
            StepState.CANCELLED,
            StepState.COMPLETED,
            StepState.ENTERED_IN_ERROR,
        }
    ),
    StepState.IN_PROGRESS: frozenset(
        {StepState.COMPLETED, StepState.ON_HOLD, StepState.CANCELLED, StepState.ENTERED_IN_ERROR}
    ),
    StepState.ON_HOLD: frozenset(
        {StepState.READY, StepState.IN_PROGRESS, StepState.CANCELLED, StepState.ENTERED_IN_ERROR}
    ),
    StepState.COMPLETED: frozenset({StepState.ENTERED_IN_ERROR}),
    StepState.CANCELLED: frozenset({StepState.ENTERED_IN_ERROR}),
    StepState.ENTERED_IN_ERROR: frozenset(),
}


class CaseState(StrEnum):
    """States of a case (one child's assessment)."""

    REFERRED = "referred"
    CONSENTED = "consented"
    ASSESSING = "assessing"
    FEEDBACK_GIVEN = "feedback-given"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    PAUSED = "paused"

    @property
    def is_open(self) -> bool:
        """True until the case is closed or withdrawn."""
        return self not in (CaseState.CLOSED, CaseState.WITHDRAWN)


#: States a case works in (steps may start); a paused case returns to one of them.
ACTIVE_CASE_STATES = frozenset({CaseState.CONSENTED, CaseState.ASSESSING, CaseState.FEEDBACK_GIVEN})

CASE_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.REFERRED: frozenset({CaseState.CONSENTED, CaseState.WITHDRAWN}),
    CaseState.CONSENTED: frozenset({CaseState.ASSESSING, CaseState.PAUSED, CaseState.WITHDRAWN}),
    CaseState.ASSESSING: frozenset(
        {CaseState.FEEDBACK_GIVEN, CaseState.PAUSED, CaseState.WITHDRAWN}
    ),
    CaseState.FEEDBACK_GIVEN: frozenset(
        {CaseState.CLOSED, CaseState.ASSESSING, CaseState.PAUSED, CaseState.WITHDRAWN}
    ),
    CaseState.PAUSED: frozenset(
        {CaseState.CONSENTED, CaseState.ASSESSING, CaseState.FEEDBACK_GIVEN, CaseState.WITHDRAWN}
    ),
    CaseState.CLOSED: frozenset(),
    CaseState.WITHDRAWN: frozenset(),
}

#: Corrections (`step revert`): a completion or cancellation entered in error goes back.
REVERT_TARGETS = frozenset({StepState.READY, StepState.REQUESTED})
REVERTIBLE_STEP_STATES = frozenset({StepState.COMPLETED, StepState.CANCELLED})


def check_step_transition(subject: str, current: StepState, requested: StepState) -> None:
    """Raise IllegalTransition unless the step may go from `current` to `requested`."""
    if requested not in STEP_TRANSITIONS[current]:
        hints = {
            StepState.REQUESTED: N_("its prerequisites are not completed yet"),
            StepState.COMPLETED: N_("it is already completed"),
            StepState.CANCELLED: N_("it was cancelled"),
        }
        raise IllegalTransition(subject, current.value, requested.value, hints.get(current, ""))


def check_case_transition(subject: str, current: CaseState, requested: CaseState) -> None:
    """Raise IllegalTransition unless the case may go from `current` to `requested`."""
    if requested not in CASE_TRANSITIONS[current]:
        raise IllegalTransition(subject, current.value, requested.value)
