"""Stage 2: clock times inside each day (shared slot of a joint step, the family's day)."""

from __future__ import annotations

import dataclasses
import itertools

from essence.domain.calendar import STOCKHOLM
from essence.domain.professions import Organisation, Profession
from essence.domain.team import Clinician, Roster
from essence.scheduling.clinic_check import check_plan
from essence.scheduling.clinic_greedy import greedy_schedule
from essence.scheduling.clinic_instance import build_instance
from essence.scheduling.clinic_planner import plan_clinic
from essence.scheduling.clinic_times import _rebuild, pack_days, repack_day, repair
from tests.unit.scheduling.clinic_factories import case, clinician, day, settings, step, template


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


def two_cases_on_four_hour_mornings():
    """Two cases of a -> joint b; a psychologist and a physician working 08:00-12:00."""
    pathway = template(
        step("a", "psychologist", minutes=60, attendees=[]),
        step("b", "psychologist", "physician", minutes=60, requires=["a"], attendees=[]),
    )
    morning = Roster.parse("mon=240@08:00-12:00,tue=240@08:00-12:00,lunch=12:00+0")
    team = [
        Clinician("psy-1", "psy-1", Profession.PSYCHOLOGIST, Organisation.BUP, roster=morning),
        Clinician("md-1", "md-1", Profession.PHYSICIAN, Organisation.BUC, roster=morning),
    ]
    return build_instance([case("c1", pathway), case("c2", pathway)], team, settings())


def test_a_day_the_greedy_packing_leaves_a_step_out_of_is_repacked_inside_the_hours():
    instance = two_cases_on_four_hour_mornings()
    assignment, _ = greedy_schedule(instance)
    day = assignment[0][0]
    indexes = sorted(i for i in assignment if assignment[i][0] == day)
    repacked = repack_day(instance, assignment, indexes, {})
    assert repacked is not None and set(repacked) == set(indexes)
    for index, start in repacked.items():
        assert start % 15 == 0
        assert start >= 8 * 60 and start + instance.tasks[index].minutes <= 12 * 60
        for pred, _ in instance.tasks[index].preds:
            assert start >= repacked[pred] + instance.tasks[pred].minutes


def test_clock_times_keep_lunch_free_and_start_on_the_grid():
    pathway = template(*(step(f"s{i}", "psychologist", minutes=40) for i in range(5)))
    team = [clinician("psy-1", "psychologist", minutes=420)]
    plan = plan_clinic([case("c1", pathway, municipality="Umeå")], team, settings(budget_s=2))
    for appointment in plan.appointments:
        assert appointment.start.minute % 15 == 0
    assert check_plan(plan, [case("c1", pathway)], team) == []


def test_a_joint_step_without_a_common_time_keeps_its_day_with_another_clinician():
    pathway = template(
        step("busy", "psychologist", minutes=120, attendees=[]),
        step("joint", "psychologist", "physician", minutes=60, attendees=[]),
    )
    morning = Roster.parse("mon=120@08:00-10:00,tue=120@08:00-10:00,wed=120@08:00-10:00,"
                           "thu=120@08:00-10:00,fri=120@08:00-10:00,lunch=12:00+0")  # fmt: skip
    team = [
        clinician("psy-1", "psychologist"),
        clinician("psy-2", "psychologist"),
        Clinician("md-1", "md-1", Profession.PHYSICIAN, Organisation.BUC, roster=morning),
    ]
    instance = build_instance([case("c1", pathway)], team, settings())
    busy, joint = (t.index for t in instance.tasks)
    day = next(d for d in range(instance.horizon) if instance.capacity["md-1"][d])
    assignment = {busy: (day, ("psy-1",)), joint: (day, ("psy-1", "md-1"))}
    starts = {busy: 8 * 60}  # psy-1 is busy whenever the physician works
    clock = _rebuild(instance, assignment, starts)
    dropped = repair(instance, clock, assignment, starts)
    assert dropped == {}
    assert assignment[joint] == (day, ("psy-2", "md-1"))
    assert starts[joint] == 8 * 60


def test_a_joint_step_without_a_common_time_keeps_its_day_by_moving_a_step_aside():
    pathway = template(
        step("busy", "psychologist", minutes=120, attendees=[]),
        step("joint", "psychologist", "physician", minutes=60, attendees=[]),
        step("report", "psychologist", minutes=30, requires=["joint"], attendees=[]),
    )
    morning = Roster.parse("mon=120@08:00-10:00,tue=120@08:00-10:00,wed=120@08:00-10:00,"
                           "thu=120@08:00-10:00,fri=120@08:00-10:00,lunch=12:00+0")  # fmt: skip
    team = [
        clinician("psy-1", "psychologist"),
        Clinician("md-1", "md-1", Profession.PHYSICIAN, Organisation.BUC, roster=morning),
    ]
    instance = build_instance([case("c1", pathway)], team, settings())
    busy, joint, report = (t.index for t in instance.tasks)
    day = next(d for d in range(instance.horizon) if instance.capacity["md-1"][d])
    assignment = {
        busy: (day, ("psy-1",)),
        joint: (day, ("psy-1", "md-1")),
        report: (day, ("psy-1",)),  # the joint step cannot go to a later day
    }
    starts = {busy: 8 * 60, report: 14 * 60}  # psy-1 is busy whenever the physician works
    clock = _rebuild(instance, assignment, starts)
    dropped = repair(instance, clock, assignment, starts)
    assert dropped == {}
    assert assignment[joint] == (day, ("psy-1", "md-1")) and starts[joint] == 8 * 60
    assert set(starts) == {busy, joint, report}
    busy_day, _ = assignment[busy]
    assert busy_day != day or starts[busy] >= 9 * 60


def test_a_plan_made_during_the_day_books_nothing_earlier_that_day():
    pathway = template(
        step("report", "psychologist", minutes=60, attendees=[]),
        step("review", "psychologist", "physician", minutes=30, requires=["report"], attendees=[]),
    )
    team = [clinician("psy-1", "psychologist"), clinician("md-1", "physician")]
    made_at = 9 * 60 + 35
    plan = plan_clinic(
        [case("c1", pathway), case("c2", pathway)], team, settings(not_before_minute=made_at)
    )
    first_day = [a for a in plan.appointments if a.day == day(0)]
    assert first_day, "the rest of the first day is still used"
    assert all(a.start.hour * 60 + a.start.minute >= 9 * 60 + 45 for a in first_day)
    assert check_plan(plan, [case("c1", pathway), case("c2", pathway)], team) == []


def test_the_checker_finds_a_new_appointment_before_the_plan_was_made():
    pathway = template(step("report", "psychologist", minutes=60, attendees=[]))
    team = [clinician("psy-1", "psychologist")]
    cases = [case("c1", pathway)]
    plan = plan_clinic(cases, team, settings())
    assert plan.appointments[0].day == day(0) and plan.appointments[0].start.hour == 8
    late = dataclasses.replace(plan, settings=settings(not_before_minute=10 * 60))
    findings = check_plan(late, cases, team)
    assert [f.rule for f in findings] == ["frozen"]
    assert "before the plan was made (10:00)" in findings[0].text


def test_pack_days_keeps_the_starts_that_still_fit_and_names_the_steps_without_a_time():
    instance = two_cases_on_four_hour_mornings()
    assignment, _ = greedy_schedule(instance)
    first_day = assignment[0][0]
    on_day = sorted(i for i in assignment if assignment[i][0] == first_day)
    starts, missing = pack_days(instance, assignment, {first_day}, {})
    assert missing == set() and set(starts) == set(on_day)
    kept = {on_day[0]: starts[on_day[0]]}
    again, _ = pack_days(instance, assignment, {first_day}, kept)
    assert again[on_day[0]] == kept[on_day[0]]
    # Five hours of the psychologist's work on one four-hour morning: one step gets no time.
    crowded = {i: (first_day, placed[1]) for i, placed in assignment.items()}
    extra = dataclasses.replace(instance.tasks[0], index=len(instance.tasks))
    instance.tasks.append(extra)
    crowded[extra.index] = (first_day, ("psy-1",))
    starts, missing = pack_days(instance, crowded, {first_day}, {})
    assert missing and set(starts) | missing == set(crowded)
