"""CP-SAT day-level model: improves the greedy, reports its solve, keeps every constraint."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from types import SimpleNamespace

from ortools.sat.python import cp_model

from essence.domain.calendar import is_working_day
from essence.scheduling.clinic_check import check_plan
from essence.scheduling.clinic_cpsat import (
    CHECKPOINT_MIN_GAP_S,
    CHECKPOINTS_AT,
    build_model,
    checkpoint_times,
    extract,
    solve_day_level,
)
from essence.scheduling.clinic_greedy import greedy_schedule
from essence.scheduling.clinic_instance import build_instance
from essence.scheduling.clinic_objective import evaluate
from essence.scheduling.clinic_planner import plan_clinic
from essence.scheduling.clinic_problem import default_template
from tests.unit.scheduling.clinic_factories import (
    START,
    case,
    clinician,
    settings,
    step,
    template,
)


def split_pathway():
    return template(
        step("test", "psychologist", minutes=60),
        step("questionnaires", wait_days=3, attendees=[]),
        step(
            "interview",
            "psychologist",
            minutes=60,
            requires=["questionnaires"],
            attendees=["guardians"],
        ),
        step(
            "conference", "psychologist", minutes=30, requires=["test", "interview"], attendees=[]
        ),
    )


def test_cpsat_bundles_a_visit_the_greedy_spreads_over_two_days():
    team = [clinician("psy-1", "psychologist")]
    greedy = plan_clinic([case("c1", split_pathway())], team, settings(), use_cpsat=False)
    plan = plan_clinic([case("c1", split_pathway())], team, settings())
    assert greedy.cases["c1"].visit_days == 2
    assert plan.cases["c1"].visit_days == 1
    assert plan.cases["c1"].feedback_date == greedy.cases["c1"].feedback_date
    assert plan.report.objective < plan.greedy_objective


def test_every_solve_reports_status_objective_bound_gap_and_wall_time():
    plan = plan_clinic(
        [case("c1", split_pathway())], [clinician("psy-1", "psychologist")], settings()
    )
    report = plan.report
    assert plan.method == "cpsat"
    assert report.status == "OPTIMAL"
    assert report.objective == report.best_bound
    assert report.gap == 0.0
    assert 0 < report.wall_seconds < 10
    # the objective after each stage: the search's plan, its clock times, the polish
    assert list(plan.stage_objectives) == ["day_level", "clock_times", "polished"]
    assert plan.stage_objectives["polished"] == report.objective
    assert plan.to_dict()["solve"]["stage_objectives"] == plan.stage_objectives


def test_cpsat_objective_equals_the_evaluated_assignment():
    team = [clinician("psy-1", "psychologist"), clinician("psy-2", "psychologist")]
    cases = [case(f"c{i}", split_pathway()) for i in range(3)]
    instance = build_instance(cases, team, settings())
    greedy, _ = greedy_schedule(instance)
    best, report, _ = solve_day_level(instance, greedy)
    assert report.objective == evaluate(instance, best)
    assert evaluate(instance, best) <= evaluate(instance, greedy)


def test_the_hints_are_a_solution_the_model_accepts_as_it_is():
    cases = [
        case("c1", default_template()),
        case("c2", default_template(), municipality="Lycksele", team_travels=True),
    ]
    instance = build_instance(cases, default_team(), settings(horizon_weeks=8))
    greedy, _ = greedy_schedule(instance)
    cm = build_model(instance, greedy)
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.num_workers = 1
    assert solver.solve(cm.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    assert extract(cm, SimpleNamespace(value=solver.value)) == greedy  # type: ignore[arg-type]


def test_an_lns_round_fixes_each_other_task_by_one_copy_made_once():
    instance = build_instance([case("c1", split_pathway())], default_team(), settings())
    task = instance.tasks[-1]
    copy = instance.fixed_copy(task)
    assert copy.fixed and copy.preds == [] and copy.key == task.key
    assert instance.fixed_copy(task) is copy
    assert not task.fixed and task.preds  # the task itself is unchanged


def test_the_day_costs_worked_out_once_agree_with_the_instance_rules():
    cases = [
        case("c1", default_template()),
        case("c2", default_template(), municipality="Lycksele", team_travels=True),
    ]
    instance = build_instance(cases, default_team(), settings(horizon_weeks=8))
    for task in instance.tasks:
        for clinician_id in {c for slot in task.candidates for c in slot}:
            costs = instance.day_costs(task, clinician_id)
            travels = instance.needs_trip(task, clinician_id)
            assert costs.trip == (task.destination if travels else None)
            assert costs.trip_block_minutes == (
                instance.trip_block_minutes(clinician_id, task.destination) if travels else 0
            )
            assert costs.slot_minutes == instance.slot_minutes(task)
            assert costs.at_base_in_person == instance.at_base_in_person(task, clinician_id)
            assert costs.crowded == instance.is_crowded(task, clinician_id)
            assert instance.day_costs(task, clinician_id) is costs
    assert any(
        instance.day_costs(t, c).trip for t in instance.tasks for s in t.candidates for c in s
    )


def default_team():
    return [
        clinician("co-1", "coordinator"),
        clinician("bhv-1", "bhv_nurse"),
        clinician("md-1", "physician"),
        clinician("psy-1", "psychologist"),
        clinician("psy-2", "psychologist"),
        clinician("slp-1", "speech_therapist"),
        clinician("pt-1", "physiotherapist"),
        clinician("hab-1", "habilitation"),
    ]


def default_plan(**extra):
    cases = [
        case("c1", default_template()),
        case("c2", default_template(), municipality="Lycksele", team_travels=True),
        case(
            "c3",
            default_template(),
            municipality="Skellefteå",
            completed={"intake": START - timedelta(days=20)},
        ),
    ]
    return cases, plan_clinic(cases, default_team(), settings(horizon_weeks=8, budget_s=3, **extra))


def test_a_default_pathway_plan_keeps_every_constraint_family():
    cases, plan = default_plan()
    team = {c.id: c for c in default_team()}
    minutes: dict[tuple[str, date], int] = defaultdict(int)
    family: dict[tuple[str, date], int] = defaultdict(int)
    when = {(a.case_id, a.step_key): a for a in plan.appointments}
    for appointment in plan.appointments:
        assert is_working_day(appointment.day)
        for clinician_id in appointment.clinician_ids:
            minutes[(clinician_id, appointment.day)] += appointment.minutes
        if appointment.family_facing:
            family[(appointment.case_id, appointment.day)] += appointment.minutes
    for (clinician_id, day), used in minutes.items():
        assert used <= team[clinician_id].minutes_on(day)
    assert max(family.values()) <= 240
    for (case_id, key), appointment in when.items():
        for required in default_template().step(key).requires:
            if required == "questionnaires":
                intake = when.get((case_id, "intake"))
                if intake is not None:
                    assert appointment.day >= intake.day + timedelta(days=14)
            elif (case_id, required) in when:
                assert when[(case_id, required)].end <= appointment.start
    assert {c.case_id for c in cases} == set(plan.cases)
    assert all(m.feedback_date is not None for m in plan.cases.values())
    assert check_plan(plan, cases, default_team()) == []


def test_the_same_input_gives_the_same_plan_with_one_worker_and_a_fixed_seed():
    team = [clinician("psy-1", "psychologist"), clinician("psy-2", "psychologist")]
    cases = [case(f"c{i}", split_pathway()) for i in range(3)]
    first = plan_clinic(cases, team, settings())
    second = plan_clinic(cases, team, settings())
    assert first.appointments == second.appointments


def test_lns_rounds_improve_the_greedy_reproducibly_without_breaking_rules():
    import time

    from essence.scheduling.clinic_cpsat import improve_with_lns

    team = [clinician("psy-1", "psychologist"), clinician("psy-2", "psychologist")]
    cases = [case(f"c{i}", split_pathway()) for i in range(4)]
    instance = build_instance(cases, team, settings(lns_rounds=6, lns_cases_per_round=2))
    greedy, _ = greedy_schedule(instance)
    first = improve_with_lns(instance, greedy, time.perf_counter() + 60)
    second = improve_with_lns(instance, greedy, time.perf_counter() + 60)
    assert first == second
    assert evaluate(instance, first) < evaluate(instance, greedy)
    for task in instance.tasks:
        for pred, lag in task.preds:
            assert first[task.index][0] >= first[pred][0] + lag


def test_a_big_plan_goes_through_lns_and_reports_a_gap():
    cases = [case(f"c{i}", split_pathway()) for i in range(4)]
    team = [clinician("psy-1", "psychologist"), clinician("psy-2", "psychologist")]
    plan = plan_clinic(cases, team, settings(lns_min_tasks=1, budget_s=2, lns_rounds=3))
    assert plan.method == "cpsat+lns"
    assert plan.cpsat_bound is None  # straight to LNS: the gap is against our bound
    assert plan.report.gap is not None and plan.report.gap >= 0
    assert plan.report.objective <= plan.greedy_objective


def test_cpsat_objective_equals_the_evaluation_with_kept_and_movable_bookings():
    from essence.scheduling.clinic_problem import Booking

    team = [clinician("psy-1", "psychologist"), clinician("psy-2", "psychologist")]
    booked = (Booking("c0", "test", START + timedelta(days=8), ("psy-2",)),)
    frozen = (Booking("c1", "test", START + timedelta(days=1), ("psy-1",)),)
    cases = [
        case("c0", split_pathway(), bookings=booked),
        case("c1", split_pathway(), bookings=frozen),
        case("c2", split_pathway()),
    ]
    instance = build_instance(
        cases, team, settings(move_bookings=True, frozen_working_days=3, horizon_weeks=3)
    )
    greedy, _ = greedy_schedule(instance)
    best, report, _ = solve_day_level(instance, greedy)
    assert report.objective == evaluate(instance, best)
    frozen_test = next(t for t in instance.tasks if (t.case_id, t.key) == ("c1", "test"))
    assert best[frozen_test.index] == (1, ("psy-1",))


def test_a_round_built_on_an_older_plan_is_carried_over_only_when_the_clinician_has_room():
    from essence.scheduling.clinic_cpsat import merged

    pathway = template(step("test", "psychologist", minutes=240, attendees=[]))
    team = [clinician("psy-1", "psychologist", minutes=300)]
    instance = build_instance([case("c1", pathway), case("c2", pathway)], team, settings())
    first, second = (t.index for t in instance.tasks)
    days = [d for d in range(instance.horizon) if instance.capacity["psy-1"][d]]
    day_1, day_2, day_3 = days[:3]
    best = {first: (day_1, ("psy-1",)), second: (day_2, ("psy-1",))}
    onto_day_1 = {first: (day_3, ("psy-1",)), second: (day_1, ("psy-1",))}
    assert merged(instance, best, onto_day_1, {"c2"}) is None  # 480 of 300 minutes on day 1
    onto_day_3 = {first: (day_1, ("psy-1",)), second: (day_3, ("psy-1",))}
    assert merged(instance, best, onto_day_3, {"c2"}) == {
        first: (day_1, ("psy-1",)),
        second: (day_3, ("psy-1",)),
    }


def test_lns_rounds_in_two_threads_improve_the_greedy_without_breaking_rules():
    import time

    from essence.scheduling.clinic_cpsat import improve_with_lns

    team = [clinician("psy-1", "psychologist"), clinician("psy-2", "psychologist")]
    cases = [case(f"c{i}", split_pathway()) for i in range(4)]
    instance = build_instance(cases, team, settings(lns_rounds=8, lns_cases_per_round=2, workers=2))
    greedy, _ = greedy_schedule(instance)
    improved = improve_with_lns(instance, greedy, time.perf_counter() + 60)
    assert evaluate(instance, improved) <= evaluate(instance, greedy)
    assert set(improved) == set(greedy)
    for task in instance.tasks:
        for pred, lag in task.preds:
            assert improved[task.index][0] >= improved[pred][0] + lag


def test_checkpoints_are_spread_over_the_search_and_thinned_for_short_budgets():
    long_search = checkpoint_times(100.0, 200.0)
    assert long_search == [100.0 + 100.0 * share for share in CHECKPOINTS_AT]
    short_search = checkpoint_times(0.0, 5.5)
    assert 1 <= len(short_search) < len(CHECKPOINTS_AT)
    starts = [0.0, *short_search[:-1]]
    gaps = [later - earlier for earlier, later in zip(starts, short_search, strict=True)]
    assert min(gaps) >= CHECKPOINT_MIN_GAP_S
    assert checkpoint_times(0.0, 1.0) == []


def test_a_trip_neighbourhood_of_fewer_cases_than_asked_takes_them_all():
    import numpy as np

    from essence.scheduling.clinic_cpsat import _trip_neighbourhood

    team = [clinician("psy", "psychologist")]
    instance = build_instance([case("c1", split_pathway())], team, settings())
    greedy, _ = greedy_schedule(instance)
    chosen = _trip_neighbourhood(instance, greedy, np.random.default_rng(0), ["c1"], 3)
    assert chosen == {"c1"}


def crowded_and_trip_instance():
    """A psychologist who must drive to Lycksele for one child and sit in a video
    conference of three for another; both fit on the first day by minutes."""
    team = [
        clinician("psy-1", "psychologist"),
        clinician("slp-1", "speech_therapist"),
        clinician("md-1", "physician"),
    ]
    away = template(step("observation", "psychologist", minutes=60))
    video = template(
        step(
            "conference",
            "psychologist",
            "speech_therapist",
            "physician",
            minutes=60,
            attendees=[],
            location="none",
        )
    )
    cases = [
        case("far", away, municipality="Lycksele", team_travels=True),
        case("conf", video),
    ]
    return build_instance(cases, team, settings(lns_min_tasks=100))


def test_the_search_keeps_a_conference_of_three_off_a_trip_day_of_one_of_them():
    from essence.scheduling.clinic_cpsat import CROWDED_POINTS, crowded_points

    instance = crowded_and_trip_instance()
    conference = next(t for t in instance.tasks if t.case_id == "conf")
    observation = next(t for t in instance.tasks if t.case_id == "far")
    assert instance.is_crowded(conference, "psy-1") and not instance.is_crowded(
        observation, "psy-1"
    )
    greedy, _ = greedy_schedule(instance)
    assert greedy[conference.index][0] == greedy[observation.index][0]  # minutes allow it
    assert crowded_points(instance, greedy) == CROWDED_POINTS
    assignment, report, method = solve_day_level(instance, greedy)
    assert method == "cpsat" and report.status == "OPTIMAL"
    assert assignment[conference.index][0] != assignment[observation.index][0]
    assert crowded_points(instance, assignment) == 0
    # The search's objective only: a day apart costs less than the crowded day.
    assert evaluate(instance, assignment) - evaluate(instance, greedy) < CROWDED_POINTS


def test_every_other_lns_round_re_places_two_cases_anywhere_in_the_horizon():
    from essence.scheduling.clinic_cpsat import WIDE_ROUND_CASES, _Search
    from essence.scheduling.progress import Watch

    cases = [case(f"c{i}", split_pathway()) for i in range(6)]
    team = [clinician("psy-1", "psychologist"), clinician("psy-2", "psychologist")]
    instance = build_instance(cases, team, settings(horizon_weeks=4))
    greedy, _ = greedy_schedule(instance)
    search = _Search(instance, greedy, Watch())
    draws = [search.draw() for _ in range(6)]
    assert [wide for _, wide in draws] == [True, False] * 3
    assert all(len(chosen) == WIDE_ROUND_CASES for chosen, wide in draws if wide)
    assert all(len(chosen) >= 1 for chosen, _ in draws)


def test_the_model_places_a_step_the_greedy_left_out_by_moving_an_earlier_case():
    """The physician works Tuesday and Wednesday, the psychologist Tuesday only. The
    greedy gives the older case's exam the Tuesday, so the joint meeting finds no day;
    the model moves the exam to Wednesday and places the meeting."""
    day = lambda n: START + timedelta(days=n)  # noqa: E731 (START is a Monday)
    team = [
        clinician("md-1", "physician", minutes=60, absences=((day(0), day(0)), (day(3), day(13)))),
        clinician("psy-1", "psychologist", absences=((day(0), day(0)), (day(2), day(13)))),
    ]
    cases = [
        case("older", template(step("exam", "physician"))),
        case(
            "newer",
            template(step("meeting", "physician", "psychologist")),
            referral_date=START - timedelta(days=10),
        ),
    ]
    greedy_only = plan_clinic(cases, team, settings(), use_cpsat=False)
    assert [(u.case_id, u.step_key) for u in greedy_only.unscheduled] == [("newer", "meeting")]
    plan = plan_clinic(cases, team, settings())
    assert plan.unscheduled == ()
    days = {a.step_key: a.day for a in plan.appointments}
    assert days == {"exam": day(2), "meeting": day(1)}
    assert check_plan(plan, cases, team) == []
