"""Marked error texts: plain English strings for the CLI that remember template and values."""

from __future__ import annotations

import pickle

from essence.domain.errors import IllegalTransition, InvalidInput
from essence.domain.messages import N_, Text
from essence.domain.states import StepState, check_step_transition


def test_a_marked_text_is_the_english_string_filled_in() -> None:
    reason = N_("must be 0..%(most)s", most=2)
    assert reason == "must be 0..2" and isinstance(reason, str)
    assert reason.template == "must be 0..%(most)s" and dict(reason.values) == {"most": 2}
    assert N_("one of %(choices)s", choices=("a", "b")) == "one of a, b"
    assert N_("no values, 100% as written") == "no values, 100% as written"


def test_a_marked_text_survives_pickling_with_its_template() -> None:
    reason = pickle.loads(pickle.dumps(N_("at most %(most)s", most=200)))
    assert isinstance(reason, Text) and reason == "at most 200"
    assert reason.template == "at most %(most)s" and dict(reason.values) == {"most": 200}


def test_errors_keep_their_english_message_and_their_parts() -> None:
    error = InvalidInput("consent", 3, N_("must be 0..%(most)s", most=2))
    assert str(error) == "consent: 3: must be 0..2"
    assert isinstance(error.reason, Text)
    try:
        check_step_transition("step medical_exam", StepState.REQUESTED, StepState.IN_PROGRESS)
    except IllegalTransition as refused:
        assert str(refused) == (
            "step medical_exam: cannot go from requested to in-progress "
            "(its prerequisites are not completed yet)"
        )
        assert refused.hint.template == "its prerequisites are not completed yet"
    else:
        raise AssertionError("requested → in-progress must be refused")
