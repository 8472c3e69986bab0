"""Stage 2: clock times inside each day (shared slot of a joint step, the family's day)."""

from __future__ import annotations

import itertools

from essence.domain.calendar import STOCKHOLM
from essence.scheduling.clinic_greedy import greedy_schedule
from essence.scheduling.clinic_instance import build_instance
from essence.scheduling.clinic_planner import plan_clinic
from essence.scheduling.clinic_times import repack_day
from tests.unit.scheduling.clinic_factories import case, clinician, settings, step, template


def test_a_joint_step_gets_one_slot_after_each_clinicians_earlier_work():
    pathway = template(
        step("language", "speech_therapist", minutes=75),
        step("ados", "psychologist", "speech_therapist", minutes=60, requires=["language"]),
        step("report", "psychologist", minutes=30, requires=["ados"], attendees=[]),
    )
    team = [clinician("psy-1", "psychologist"), clinician("slp-1", "speech_therapist")]
    plan = plan_clinic([case("c1", pathway)], team, settings())
    times = {a.step_key: a for a in plan.appointments}
    assert times["language"].start.hour == 8 and times["language"].start.minute == 0
    assert times["ados"].start == times["language"].end
    assert times["ados"].clinician_ids == ("psy-1", "slp-1")
    assert times["report"].start >= times["ados"].end
    assert times["ados"].start.tzinfo == STOCKHOLM


def test_a_family_never_has_two_appointments_at_once_and_clinicians_never_overlap():
    pathway = template(
        step("exam", "physician", minutes=90),
        step("test", "psychologist", minutes=60),
        step("motor", "physiotherapist", minutes=60),
    )
    team = [
        clinician("md-1", "physician"),
        clinician("psy-1", "psychologist"),
        clinician("pt-1", "physiotherapist"),
    ]
    plan = plan_clinic([case("c1", pathway), case("c2", pathway)], team, settings())
    by_owner: dict[str, list] = {}
    for appointment in plan.appointments:
        owners = [appointment.case_id, *appointment.clinician_ids]
        for owner in owners:
            by_owner.setdefault(owner, []).append((appointment.start, appointment.end))
    for slots in by_owner.values():
        slots.sort()
        for (_, end), (start, _) in itertools.pairwise(slots):
            assert end <= start


def test_a_day_running_past_the_working_day_is_repacked_inside_it():
    pathway = template(
        step("a", "psychologist", minutes=60, attendees=[]),
        step("b", "psychologist", "physician", minutes=60, requires=["a"], attendees=[]),
    )
    team = [clinician("psy-1", "psychologist"), clinician("md-1", "physician")]
    instance = build_instance(
        [case("c1", pathway), case("c2", pathway)], team, settings(workday_minutes=240)
    )
    assignment, _ = greedy_schedule(instance)
    late = {i: 11 * 60 + 30 * i for i in assignment}  # 11:00 onwards: past 12:00
    repacked = repack_day(instance, assignment, sorted(assignment), late)
    assert repacked is not None
    ends = [repacked[i] + instance.tasks[i].step.minutes for i in assignment]
    assert max(ends) <= 12 * 60
    for task in instance.tasks:
        for pred, _ in task.preds:
            assert repacked[task.index] >= repacked[pred] + instance.tasks[pred].step.minutes
