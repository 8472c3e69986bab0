"""Input model of the clinic planner: bad input is rejected with the field and value named."""

from __future__ import annotations

from datetime import date

import pytest

from essence.domain.errors import InvalidInput, NotFound
from essence.domain.team import Absence, Roster
from essence.scheduling.clinic_planner import plan_clinic, replan
from essence.scheduling.clinic_problem import Booking, Weights, default_template
from tests.unit.scheduling.clinic_factories import START, case, clinician, settings, step, template


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"horizon_weeks": 0}, "horizon-weeks"),
        ({"budget_s": 0}, "budget-s"),
        ({"family_max_minutes": 0}, "family-max-minutes"),
        ({"frozen_working_days": -1}, "frozen-working-days"),
        ({"workers": 0}, "workers"),
    ],
)
def test_invalid_settings_name_the_field_and_value(changes, field):
    with pytest.raises(InvalidInput) as error:
        settings(**changes)
    assert error.value.field == field
    assert str(next(iter(changes.values()))) in str(error.value)


def test_negative_weight_is_rejected():
    with pytest.raises(InvalidInput, match=r"weights\.move: -1"):
        Weights(move=-1)


def test_roster_with_negative_minutes_and_reversed_absence_are_rejected():
    with pytest.raises(InvalidInput, match="roster"):
        Roster.uniform(-60)
    with pytest.raises(InvalidInput, match="ends before it starts"):
        Absence(date(2027, 2, 10), date(2027, 2, 1))


def test_booking_with_unknown_clinician_is_not_found():
    pathway = template(step("exam", "physician"))
    booked = Booking("c1", "exam", START, ("md-9",))
    with pytest.raises(NotFound, match="clinician: md-9"):
        plan_clinic(
            [case("c1", pathway, bookings=(booked,))], [clinician("md-1", "physician")], settings()
        )


def test_replan_with_bookings_of_unknown_case_is_not_found():
    pathway = template(step("exam", "physician"))
    with pytest.raises(NotFound, match="case: nope"):
        replan([case("c1", pathway)], [clinician("md-1", "physician")], settings(), {"nope": ()})


def test_case_naming_an_unknown_step_is_rejected():
    pathway = template(step("exam", "physician"))
    with pytest.raises(InvalidInput, match="unknown step"):
        case("c1", pathway, completed={"nothing": START})


def test_default_pathway_loads_with_one_feedback_step():
    assert default_template().feedback_key == "feedback_meeting"


def test_an_assigned_clinician_must_exist_and_have_the_steps_profession():
    pathway = template(step("exam", "physician"))
    team = [clinician("md-1", "physician"), clinician("psy-1", "psychologist")]
    with pytest.raises(NotFound, match="clinician: md-7"):
        plan_clinic([case("c1", pathway, assigned={"exam": ("md-7",)})], team, settings())
    with pytest.raises(InvalidInput, match="is a psychologist"):
        plan_clinic([case("c1", pathway, assigned={"exam": ("psy-1",)})], team, settings())


def test_an_assigned_clinician_is_the_one_booked():
    pathway = template(step("exam", "physician"))
    team = [clinician("md-1", "physician"), clinician("md-2", "physician")]
    plan = plan_clinic([case("c1", pathway, assigned={"exam": ("md-2",)})], team, settings())
    assert plan.appointments[0].clinician_ids == ("md-2",)


def test_a_preschool_beyond_a_days_round_trip_is_observed_by_video():
    observation = step(
        "observation", "speech_therapist", minutes=120, attendees=["preschool"],
        location="preschool", video_allowed=True,
    )  # fmt: skip
    pathway = template(observation, step("feedback", "speech_therapist"))
    team = [clinician("slp-1", "speech_therapist")]
    far = plan_clinic([case("far", pathway, municipality="Sorsele")], team, settings())
    near = plan_clinic([case("near", pathway, municipality="Vännäs")], team, settings())
    assert [a.place.kind for a in far.for_case("far") if a.step_key == "observation"] == ["video"]
    assert [a.place.kind for a in near.for_case("near") if a.step_key == "observation"] == [
        "preschool"
    ]
    assert far.unscheduled == ()
