"""Lifecycle invariants of a case: what must hold whatever happened to it.

`case_violations` lists every broken rule in one line each (empty: the case is sound). The
digital twin checks every case it created with it at the end of a run; tests and the case
state-machine property test can call it after any sequence of operations.
"""

from __future__ import annotations

from datetime import date, timedelta

from essence.domain.calendar import local_date
from essence.domain.case import Case
from essence.domain.states import CaseState, StepState

_DONE = (StepState.COMPLETED, StepState.CANCELLED)
_STARTED = (StepState.READY, StepState.IN_PROGRESS, StepState.ON_HOLD, StepState.COMPLETED)


def case_violations(case: Case, today: date | None = None) -> list[str]:
    """Every lifecycle rule the case breaks (no personal data in the messages).

    Rules: no step moves before both guardians' consent; a step is ready, started or done
    only after its prerequisites are done (completed or cancelled), and completed no earlier
    than they were; a step whose prerequisites are all done is not left requested; waiting
    steps finish no earlier than their waiting time; completed steps say when and by whom;
    the case state agrees with its feedback step and its open steps; nothing is dated before
    the referral or after `today`.
    """
    found: list[str] = []
    found += _consent(case)
    for key in case.template.keys:
        found += _step(case, key, today)
    found += _case_state(case)
    return [f"case {case.id}: {text}" for text in found]


def _consent(case: Case) -> list[str]:
    if case.consent.complete:
        if case.state is CaseState.REFERRED:
            return ["both guardians consented but the case is still referred"]
        return []
    if case.state in (CaseState.WITHDRAWN, CaseState.PAUSED):
        return []  # a withdrawn consent pauses the case where it stood
    moved = [k for k, s in case.steps.items() if s.state in _STARTED]
    if case.state is not CaseState.REFERRED:
        return [f"state {case.state.value} without both guardians' consent"]
    return [f"step {k} is {case.steps[k].state.value} without consent" for k in moved]


def _step(case: Case, key: str, today: date | None) -> list[str]:
    step = case.steps[key]
    prerequisites_done = case.prerequisites_satisfied(key)
    found = []
    if step.state in _STARTED and not prerequisites_done:
        found.append(f"step {key} is {step.state.value} before its prerequisites are done")
    if step.state is StepState.COMPLETED:
        found += _completion(case, key, today)
    consented = case.state in (CaseState.CONSENTED, CaseState.ASSESSING, CaseState.FEEDBACK_GIVEN)
    if consented and step.state is StepState.REQUESTED and prerequisites_done:
        found.append(f"step {key} is still requested although its prerequisites are done")
    return found


def _completion(case: Case, key: str, today: date | None) -> list[str]:
    step = case.steps[key]
    definition = case.definition(key)
    if step.completed_at is None or not step.completed_by:
        return [f"step {key} is completed without a time or who did it"]
    done = local_date(step.completed_at)
    found = []
    if done < case.referral_date:
        found.append(f"step {key} completed {done}, before the referral")
    if today is not None and done > today:
        found.append(f"step {key} completed {done}, in the future")
    for required in definition.requires:
        before = case.steps[required].completed_on
        if case.steps[required].state is StepState.COMPLETED and before and before > done:
            found.append(f"step {key} completed {done}, before its prerequisite {required}")
    if definition.is_waiting and step.ready_on is not None:
        earliest = step.ready_on + timedelta(days=definition.wait_days)
        if done < earliest:
            found.append(f"waiting step {key} completed {done}, before {earliest}")
    return found


def _case_state(case: Case) -> list[str]:
    feedback_done = case.feedback_step.state is StepState.COMPLETED
    all_done = all(s.state.is_terminal for s in case.steps.values())
    state = case.state
    found = []
    if state in (CaseState.FEEDBACK_GIVEN, CaseState.CLOSED) and not feedback_done:
        found.append(f"state {state.value} but the feedback meeting is not held")
    if state in (CaseState.REFERRED, CaseState.CONSENTED, CaseState.ASSESSING) and feedback_done:
        found.append(f"state {state.value} although the feedback meeting is held")
    if state is CaseState.CLOSED and not all_done:
        found.append("closed with open steps")
    if state is CaseState.FEEDBACK_GIVEN and all_done:
        found.append("every step is done but the case is not closed")
    if state in (CaseState.CLOSED, CaseState.WITHDRAWN) and case.closed_at is None:
        found.append(f"state {state.value} without a closing time")
    if state is CaseState.WITHDRAWN and not all_done:
        found.append("withdrawn with open steps")
    return found
