"""The engine's errors in the user's language: one function for pages, fragments and problems.

The domain and the services raise errors that keep their parts (field, value, reason,
states, step) and mark their free texts with `essence.domain.messages.N_` (English message
ids that remember their values). `message` turns any `EssenceError` into one line in the
request's language: fields as labels, step keys as step titles, states as the interface's
state words, marked texts through the catalogue. A text without a translation stays English;
nothing here raises. A personnummer, a password or a login id is never shown.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from essence.domain.errors import (
    ConcurrencyConflict,
    ConsentMissing,
    DuplicateCase,
    EssenceError,
    IllegalTransition,
    InfrastructureError,
    InvalidInput,
    NotFound,
    PathwayCycle,
    PermissionDenied,
    PlanCheckFailed,
)
from essence.domain.messages import Text
from essence.domain.states import CaseState, StepState
from essence.web import terms
from essence.web.i18n import LANGUAGES, N_, current_language, gettext, speaking

#: Fields whose value is never repeated in a message (personal data, secrets, login ids).
HIDDEN_VALUES = frozenset(
    {"personnummer", "password", "user", "clinician", "clinician id", "assign"}
)
#: Kinds of NotFound whose identifier is a login id (not shown).
_HIDDEN_IDS = frozenset({"user", "clinician"})
_KINDS = {
    "case": N_("Case"),
    "clinician": N_("Clinician"),
    "step": N_("Step"),
    "pathway": N_("Pathway"),
    "user": N_("User"),
}
_STATES = frozenset(s.value for s in StepState) | frozenset(s.value for s in CaseState)
#: What an IllegalTransition asked for when it is not a state: an action, as a verb phrase.
ACTIONS = {
    "consent": N_("record consent"),
    "assigned": N_("assign someone to it"),
    "resumed": N_("resume it"),
    "undone": N_("undo the completion"),
    "no-show": N_("record a no-show"),
    "record a no-show": N_("record a no-show"),
    "correct a step": N_("correct a step"),
    "change a step": N_("change a step"),
}
#: Reasons raised outside the marked modules (adapters, the web itself), for the catalogue.
UNMARKED_REASONS = (
    N_("already exists"),
    N_("is already in use"),
    N_("exists with other content; raise the version number"),
    N_("expected a date as YYYY-MM-DD"),
    N_("expected a whole number"),
)
_STORED_MAX = 300


def _roles(keys: object) -> str:
    names = tuple(keys) if isinstance(keys, tuple | list) else (keys,)
    return ", ".join(terms.role(str(k)) for k in names if k) or terms.role("admin")


#: Placeholder names whose values are keys shown as words (see essence.domain.messages).
_WORDS: dict[str, Callable[[object], str]] = {
    "step": lambda key: terms.step_title(str(key)),
    "profession": lambda key: terms.profession(str(key)),
    "needed": lambda key: terms.profession(str(key)),
    "role": lambda key: terms.role(str(key)),
    "roles": _roles,
    "state": lambda key: terms.state(str(key)),
}


def text(value: object) -> str:
    """A marked text (or a plain English one) in the request's language; unknown: as it is."""
    if isinstance(value, Text):
        template = gettext(value.template)
        if not value.values:
            return template
        try:
            return template % {name: _word(name, v) for name, v in value.values.items()}
        except (KeyError, TypeError, ValueError):
            return str(value)
    plain = str(value) if value is not None else ""
    return gettext(plain) if plain else ""


def _word(name: str, value: object) -> str:
    if name in _WORDS:
        return _WORDS[name](value)
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    return text(value) if isinstance(value, Text) else str(value)


def field_label(field: str) -> str:
    """A field's label in the request's language (`referral date` → Remissdatum)."""
    return terms.field_label(field.strip().replace(" ", "_").replace("-", "_"))


def shown_value(error: InvalidInput) -> str:
    """The value of an input error as it may be shown ('' for hidden or empty values)."""
    value = error.value
    if isinstance(value, Text):
        return text(value)
    if value is None or value == "" or error.field.lower() in HIDDEN_VALUES:
        return ""
    if error.field == "step":
        return terms.step_title(str(value))
    if error.field == "profession":
        return terms.profession(str(value))
    return str(value)


def reason(error: InvalidInput) -> str:
    """What is wrong with a field's value, for the slot right under that field."""
    if isinstance(error, DuplicateCase):
        return _duplicate(error)
    return text(error.reason)


def message(error: EssenceError) -> str:
    """One line for people in the request's language, without personal data.

    Args:
        error: Any error essence raised on purpose.

    Returns:
        The message: by the error's class and parts, its texts through the catalogue.
    """
    for kind, describe in _DESCRIBERS:
        if isinstance(error, kind):
            return describe(error)
    return text(error.message)


def message_in(error: EssenceError, language: str) -> str:
    """`message(error)` in `language` (the API's problem detail, a stored run's error)."""
    with speaking(language):
        return message(error)


def _invalid_input(error: InvalidInput) -> str:
    if isinstance(error, DuplicateCase):
        return _duplicate(error)
    value = shown_value(error)
    parts = {"field": field_label(error.field), "reason": text(error.reason)}
    if value:
        return gettext("%(field)s: %(value)s: %(reason)s") % {**parts, "value": value}
    return gettext("%(field)s: %(reason)s") % parts


def _duplicate(error: DuplicateCase) -> str:
    if error.existing_case_id:
        return gettext("The child already has an open case: %(case)s.") % {
            "case": error.existing_case_id
        }
    return gettext("The child already has an open case.")


def _illegal_transition(error: IllegalTransition) -> str:
    kind, _sep, key = error.subject.partition(" ")
    current = terms.state(error.current)
    if error.requested in _STATES:
        wanted = terms.state(error.requested)
        if kind == "step" and key:
            line = gettext("The step “%(step)s” cannot go from %(current)s to %(wanted)s.") % {
                "step": terms.step_title(key),
                "current": current,
                "wanted": wanted,
            }
        else:
            line = gettext("The case cannot go from %(current)s to %(wanted)s.") % {
                "current": current,
                "wanted": wanted,
            }
    else:
        action = gettext(ACTIONS[error.requested]) if error.requested in ACTIONS else ""
        action = action or text(error.requested)
        if kind == "step" and key:
            line = gettext("The step “%(step)s” is %(current)s: you cannot %(action)s.") % {
                "step": terms.step_title(key),
                "current": current,
                "action": action,
            }
        else:
            line = gettext("The case is %(current)s: you cannot %(action)s.") % {
                "current": current,
                "action": action,
            }
    return _with_detail(line, error.hint)


def _with_detail(line: str, detail: object) -> str:
    """`line` (a sentence) with `detail` in brackets before its full stop."""
    shown = text(detail) if detail else ""
    if not shown:
        return line
    return gettext("%(message)s (%(detail)s).") % {"message": line.rstrip("."), "detail": shown}


def _consent_missing(error: ConsentMissing) -> str:
    line = gettext("Both guardians' consent must be on record before a step can start.")
    return _with_detail(line, error.detail)


def _permission_denied(error: PermissionDenied) -> str:
    shown = text(error.reason) if error.reason else ""
    if not shown:
        return gettext("You do not have permission for this (the attempt was logged).")
    return gettext("You do not have permission for this: %(reason)s (the attempt was logged).") % {
        "reason": shown
    }


def _not_found(error: NotFound) -> str:
    what = gettext(_KINDS[error.kind]) if error.kind in _KINDS else error.kind.capitalize()
    if error.kind in _HIDDEN_IDS or error.identifier in (None, ""):
        return gettext("%(what)s was not found.") % {"what": what}
    identifier = error.identifier
    if error.kind == "step":
        identifier = terms.step_title(str(identifier))
    return gettext("%(what)s %(id)s was not found.") % {"what": what, "id": identifier}


def _pathway_cycle(error: PathwayCycle) -> str:
    steps = " → ".join(terms.step_title(key) for key in error.cycle)
    return gettext("The pathway's prerequisites form a cycle: %(steps)s.") % {"steps": steps}


_CONFLICT = N_("Someone else changed the case at the same moment; nothing was saved. Try again.")
_PLAN_BROKEN = N_(
    "The plan breaks a scheduling rule the planner could not repair; nothing was booked."
)
_UNREACHABLE = N_("The database cannot be reached right now; nothing was saved.")


def _fixed(message_id: str) -> Callable[[EssenceError], str]:
    return lambda _error: gettext(message_id)


_DESCRIBERS: tuple[tuple[type[EssenceError], Callable[..., str]], ...] = (
    (InvalidInput, _invalid_input),
    (IllegalTransition, _illegal_transition),
    (ConsentMissing, _consent_missing),
    (PermissionDenied, _permission_denied),
    (NotFound, _not_found),
    (PathwayCycle, _pathway_cycle),
    (ConcurrencyConflict, _fixed(_CONFLICT)),
    (PlanCheckFailed, _fixed(_PLAN_BROKEN)),
    (InfrastructureError, _fixed(_UNREACHABLE)),
)


def for_later(error: EssenceError) -> str:
    """The error in every language, as one string to store with a run (at most 300 chars).

    A background run fails after its request has ended; what it stores is shown later, to a
    user who may have changed language since. `from_stored` picks the language then.
    """
    said = {language: message_in(error, language) for language in LANGUAGES}
    limit = _STORED_MAX // len(said)
    while True:
        stored = json.dumps(said, ensure_ascii=False)
        if len(stored) <= _STORED_MAX:
            return stored
        limit -= 10
        said = {k: (v if len(v) <= limit else v[: limit - 1] + "…") for k, v in said.items()}


def from_stored(stored: str | None) -> str:
    """A run's stored error in the request's language (plain texts through the catalogue)."""
    if not stored:
        return ""
    if stored.startswith("{"):
        try:
            said = json.loads(stored)
        except ValueError:
            said = None
        if isinstance(said, dict):
            return str(said.get(current_language()) or next(iter(said.values()), ""))
    return gettext(stored)
