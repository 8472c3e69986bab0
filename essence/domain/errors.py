"""The one error hierarchy of essence.

Every error a user can cause is an `EssenceError`; the CLI (and later the web app) turns it
into one line on stderr and an exit code, never a traceback. Messages name the field and
the value but never personal data (a personnummer is shown masked or not at all).
Each error keeps its parts as attributes (field, value, reason, states …) and free texts are
marked with `essence.domain.messages.N_`, so the web app can say the same in Swedish.
"""

from __future__ import annotations

from essence.domain.messages import N_


class EssenceError(Exception):
    """Base of every error essence raises on purpose.

    Attributes:
        exit_code: Process exit code the CLI uses for this error (2 = bad input).
        transient: True when running the same use case again may succeed (a conflict with
            another writer, a dropped connection before anything was committed).
    """

    exit_code = 2
    transient = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(EssenceError):
    """A value given by a user is not acceptable; the message names field and value."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}: {value!s}: {reason}" if value != "" else f"{field}: {reason}")


class NotFound(EssenceError):
    """A referenced object (case, clinician, step, pathway, user) does not exist."""

    def __init__(self, kind: str, identifier: object) -> None:
        self.kind = kind
        self.identifier = identifier
        super().__init__(f"{kind}: {identifier!s}: not found")


class PathwayError(EssenceError):
    """A pathway template is malformed: cycle, unknown prerequisite or profession, bad value."""


class PathwayCycle(PathwayError):
    """The prerequisites of a pathway template form a cycle."""

    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__("pathway: prerequisites form a cycle: " + " -> ".join(cycle))


class IllegalTransition(EssenceError):
    """A case or step was asked to move to a state its state machine does not allow."""

    def __init__(self, subject: str, current: str, requested: str, hint: str = "") -> None:
        self.subject = subject
        self.current = current
        self.requested = requested
        self.hint = hint
        extra = f" ({hint})" if hint else ""
        super().__init__(f"{subject}: cannot go from {current} to {requested}{extra}")


class ConsentMissing(EssenceError):
    """A step was to start before both guardians' consent was on record."""

    def __init__(self, case_id: str, detail: str = "") -> None:
        self.case_id = case_id
        self.detail = detail
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"consent: case {case_id}: both guardians' consent must be on record before a "
            f"step{extra}"
        )


class DuplicateCase(InvalidInput):
    """The child already has an open case (one open case per child, enforced by the database)."""

    def __init__(self, existing_case_id: str | None) -> None:
        self.existing_case_id = existing_case_id
        reason = (
            N_("the child already has open case %(case)s", case=existing_case_id)
            if existing_case_id
            else N_("the child already has an open case")
        )
        super().__init__("personnummer", "", reason)


class PermissionDenied(EssenceError):
    """The acting user's role or involvement does not allow the action (Patient Data Act)."""

    def __init__(self, user_id: str, action: str, reason: str) -> None:
        self.user_id = user_id
        self.action = action
        self.reason = reason
        super().__init__(f"permission denied: user {user_id} may not {action}: {reason}")


class ConcurrencyConflict(EssenceError):
    """Another user changed the same case at the same moment; nothing of ours was written."""

    transient = True

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(
            f"case {case_id}: changed by someone else at the same moment; nothing was saved, "
            "please try again"
        )


class InfrastructureError(EssenceError):
    """The environment failed (database unreachable, not initialised); exit code 1."""

    exit_code = 1


class PlanCheckFailed(EssenceError):
    """A plan breaks a scheduling rule the planner could not repair; nothing is booked.

    Exit code 1: it is a defect of the planner, not of the user's input.
    """

    exit_code = 1


class DatabaseUnavailable(InfrastructureError):
    """The database connection was refused or lost.

    Attributes:
        transient: False when the connection dropped while committing: the change may or may
            not be stored, so running the use case again could do it twice.
    """

    def __init__(self, message: str, *, during_commit: bool = False) -> None:
        super().__init__(message)
        self.transient = not during_commit


class SchemaMismatch(InfrastructureError):
    """The database schema is behind or ahead of this version of essence."""
