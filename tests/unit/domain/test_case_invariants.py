"""Lifecycle invariants of a case: sound cases pass, broken ones are named, and any sequence
of legal operations keeps a case sound."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from essence.domain.calendar import at_local
from essence.domain.case_invariants import case_violations
from essence.domain.errors import EssenceError
from essence.domain.states import CaseState, StepState
from tests.factories import new_case

START = date(2026, 3, 2)


def test_a_fresh_consented_case_is_sound() -> None:
    assert case_violations(new_case()) == []


def test_a_step_completed_before_its_prerequisite_is_named() -> None:
    case = new_case()
    case.complete_step("intake", at_local(START, 10), "coord-1")
    step = case.steps["medical_exam"]
    step.state = StepState.COMPLETED
    step.completed_at = at_local(START - timedelta(days=1), 10)
    step.completed_by = "md-1"
    found = case_violations(case)
    assert any("before the referral" in f for f in found)


def test_a_closed_case_with_open_steps_is_named() -> None:
    case = new_case()
    case.state = CaseState.CLOSED
    found = case_violations(case)
    assert any("feedback meeting is not held" in f for f in found)
    assert any("closed with open steps" in f for f in found)


def test_steps_moving_without_consent_are_named() -> None:
    case = new_case(consenting=1)
    case.steps["intake"].state = StepState.READY
    assert case_violations(case) == [
        f"case {case.id}: step intake is ready without consent",
    ]


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "complete",
                "start",
                "hold",
                "resume",
                "cancel",
                "advance",
                "consent",
                "revert",
                "no-show",
                "withdraw-consent",
            ]
        ),
        st.integers(0, 14),
        st.integers(0, 3),
    ),
    max_size=60,
)


@settings(max_examples=40, deadline=None)
@given(operations=OPERATIONS, consenting=st.integers(0, 2))
def test_any_sequence_of_legal_operations_keeps_a_case_sound(
    operations: list[tuple[str, int, int]], consenting: int
) -> None:
    case = new_case(consenting=consenting)
    keys = case.template.keys
    day = START
    for name, index, days in operations:
        day += timedelta(days=days)
        key = keys[index % len(keys)]
        now = at_local(day, 10)
        try:
            if name == "complete":
                case.complete_step(key, now, "someone")
            elif name == "start":
                case.start_step(key, now)
            elif name == "hold":
                case.hold_step(key, "ill")
            elif name == "resume":
                case.resume_step(key)
            elif name == "cancel":
                case.cancel_step(key, now, "not needed")
            elif name == "advance":
                case.advance(day)
            elif name == "revert":
                case.revert_step(key, now, "entered by mistake")
            elif name == "no-show":
                case.record_no_show(key)
            elif name == "withdraw-consent":
                case.record_consent(1, day)
            else:
                case.record_consent(2, day)
        except EssenceError:
            continue  # refused: nothing changed
        assert case_violations(case, day) == []
