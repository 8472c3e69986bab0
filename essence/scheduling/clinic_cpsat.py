"""Stage 1 of the clinic planner: CP-SAT assigns each step to a day and clinicians.

One function per constraint family; warm-started by the greedy plan (solution hints); big
plans are improved by re-solving a few cases at a time with the rest fixed (LNS).
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from essence.scheduling.clinic_greedy import (
    Assignment,
    DayLoad,
    clinician_fits,
    crowds_trip_day,
    family_fits,
    task_order,
)
from essence.scheduling.clinic_instance import Instance, Task, planning_lag
from essence.scheduling.clinic_objective import (
    CROWDED_POINTS,
    crowded_points,
    evaluate,
    lateness_cost,
    lead_offset_days,
    moved,
)
from essence.scheduling.clinic_problem import PlanSettings
from essence.scheduling.progress import Watch
from essence.scheduling.solver import SolveReport, SolverSettings, relative_gap

Var = cp_model.IntVar

#: Wall-clock limit of one LNS round, seconds (most rounds prove their optimum in less;
#: the few that do not still return their best, and short rounds leave time for more).
LNS_ROUND_S = 0.3
#: Trip neighbourhoods take cases with steps in the same place within this many days.
TRIP_NEAR_DAYS = 5
#: ... and this many cases more than other rounds (pooling needs company).
TRIP_EXTRA_CASES = 2
#: CP-SAT workers of one LNS round: its model is small, one worker solves it faster
#: than two that share the cores.
LNS_WORKERS = 1
#: Every other LNS round re-places this many cases drawn at random anywhere in the
#: horizon (the other rounds keep each step near its day). On `clinic_scale` (20 s of
#: LNS, six solver seeds each) two cases every other round gave a mean day-level
#: objective of 154.8k against 157.4k without such rounds; one case 156.2k, three 155.7k,
#: every round 157.2k (the trip rounds are needed too).
WIDE_ROUND_CASES = 2

#: CP-SAT's linearization level in LNS rounds: 0 (no LP relaxation) solves a round of a
#: few cases faster than the default 1, and most rounds still end optimal. On
#: `clinic_scale` (LNS alone for 20 s from the greedy, four solver seeds each) rounds went
#: from 142 to 115 ms and the day-level objective from 155.3k to 154.4k.
LNS_LINEARIZATION = 0

#: Models with at most this many steps to place get the whole horizon as day window.
FULL_WINDOW_MAX_TASKS = 150


@dataclass
class ClinicModel:
    """The CP-SAT model and its variables.

    Attributes:
        model: The CP-SAT model.
        instance: The compiled problem.
        free: Tasks the model places (scheduled by the greedy and not fixed bookings).
        fixed: Placement of fixed bookings (constants).
        fixed_load: Load of the fixed bookings.
        windows: Candidate day indexes per task.
        y: (task, day) -> the task is on that day.
        day: task -> its day index (channelled to `y`).
        a: (task, slot, clinician, day) -> that clinician fills that slot that day.
        trip: (clinician, day, municipality) -> the clinician drives there that day.
        family_day: (case, day) -> the family comes that day.
        used: (case, profession, clinician) -> the clinician sees the child (continuity).
        moved: task -> its booking moves.
        late: task -> days beyond 90 and beyond 140 (feedback steps only).
        constant: Objective part that no variable changes (fixed bookings).
        objective_terms: Linear terms of the objective.
    """

    model: cp_model.CpModel
    instance: Instance
    free: list[Task]
    fixed: Assignment
    fixed_load: DayLoad
    windows: dict[int, list[int]] = field(default_factory=dict)
    y: dict[tuple[int, int], Var] = field(default_factory=dict)
    day: dict[int, Var] = field(default_factory=dict)
    a: dict[tuple[int, int, str, int], Var] = field(default_factory=dict)
    trip: dict[tuple[str, int, str], Var] = field(default_factory=dict)
    family_day: dict[tuple[str, int], Var] = field(default_factory=dict)
    used: dict[tuple[str, str, str], Var] = field(default_factory=dict)
    moved: dict[int, Var] = field(default_factory=dict)
    late: dict[int, tuple[Var, Var]] = field(default_factory=dict)
    constant: int = 0
    objective_terms: list[cp_model.LinearExprT] = field(default_factory=list)

    def day_of(self, task: Task) -> cp_model.LinearExprT:
        """The task's day index (an integer variable channelled to the day booleans)."""
        return self.day[task.index]


def build_model(
    instance: Instance, greedy: Assignment, full_window: bool | None = None
) -> ClinicModel:
    """Build the day-level model around the greedy assignment (its windows and hints).

    Args:
        instance: The compiled problem.
        greedy: A feasible assignment (hints; the centre of each step's day window).
        full_window: Let every step use the whole horizon; by default only for small
            models (at most `FULL_WINDOW_MAX_TASKS` steps to place, e.g. one new referral).
    """
    fixed = {t.index: greedy[t.index] for t in instance.tasks if t.fixed and t.index in greedy}
    load = DayLoad()
    for index, placed in fixed.items():
        load.add(instance, instance.tasks[index], *placed)
    free = [t for t in instance.tasks if t.index in greedy and not t.fixed]
    cm = ClinicModel(cp_model.CpModel(), instance, free, fixed, load)
    if full_window is None:
        full_window = len(free) <= FULL_WINDOW_MAX_TASKS
    add_day_and_clinician_choice(cm, greedy, full_window)
    add_prerequisites_and_waiting_times(cm)
    add_clinician_minutes_and_travel(cm)
    add_family_day_limits(cm)
    add_booking_moves(cm)
    add_continuity(cm)
    add_lead_time_costs(cm)
    cm.constant += _fixed_constants(cm)
    cm.model.minimize(sum(cm.objective_terms) + cm.constant)
    add_hints(cm, greedy)
    return cm


# --- constraint families ------------------------------------------------------------------


def add_day_and_clinician_choice(cm: ClinicModel, greedy: Assignment, full_window: bool) -> None:
    """Each step on exactly one day; each profession slot filled by one clinician that day.

    A joint step (several professions) shares the day variable, so all its clinicians meet
    in the same slot; the clock-time stage then gives them one common start time.
    """
    settings = cm.instance.settings
    model = cm.model
    earliest = _earliest_days(cm)
    for task in cm.free:
        hint_day = greedy[task.index][0]
        start = earliest[task.index]
        low = max(start, hint_day - settings.window_before_days)
        high = min(cm.instance.horizon - 1, hint_day + settings.window_after_days)
        if full_window:
            low, high = start, cm.instance.horizon - 1
        fitting = {}
        for day in range(low, high + 1):
            fits = _fitting_clinicians(cm, task, day, with_family=day != hint_day)
            if fits is not None:
                fitting[day] = fits
        days = list(fitting)
        avoid = cm.instance.avoid.get(task.index, set())
        days = [d for d in days if d not in avoid] or days
        cm.windows[task.index] = days
        for day in days:
            cm.y[(task.index, day)] = model.new_bool_var(f"y_{task.index}_{day}")
        model.add_exactly_one(cm.y[(task.index, d)] for d in days)
        day_var = model.new_int_var_from_domain(
            cp_model.Domain.from_values(days), f"day_{task.index}"
        )
        model.add(day_var == weighted([cm.y[(task.index, d)] for d in days], days))
        cm.day[task.index] = day_var
        for slot in range(len(task.candidates)):
            for day in days:
                slot_vars = [_a_var(cm, task, slot, c, day) for c in fitting[day][slot]]
                model.add(cp_model.LinearExpr.sum(slot_vars) == cm.y[(task.index, day)])
        _clinicians_distinct_within_step(cm, task)


def _earliest_days(cm: ClinicModel) -> dict[int, int]:
    """Earliest day of each free task from release days and lags (capacity ignored)."""
    earliest: dict[int, int] = {}
    for task in task_order(cm.instance):
        if task.index in cm.fixed:
            earliest[task.index] = cm.fixed[task.index][0]
            continue
        day = task.release
        for pred, lag in task.preds:
            if pred in earliest:
                day = max(day, earliest[pred] + planning_lag(cm.instance, task, pred, lag))
        earliest[task.index] = day
    return earliest


def _fitting_clinicians(
    cm: ClinicModel, task: Task, day: int, with_family: bool = True
) -> list[list[str]] | None:
    """Per profession slot, the candidates with room for the task on `day` around the
    fixed load; None when the day is not possible (a slot without one, or, `with_family`,
    the family's day is full). The greedy's own day is kept even when not possible (the
    model must accept its hint), with whoever fits."""
    if with_family and not family_fits(cm.instance, cm.fixed_load, task, day):
        return None
    fitting = []
    for candidates in task.candidates:
        fits = [c for c in candidates if clinician_fits(cm.instance, cm.fixed_load, task, c, day)]
        if not fits and with_family:
            return None
        fitting.append(fits)
    return fitting


def _a_var(cm: ClinicModel, task: Task, slot: int, clinician_id: str, day: int) -> Var:
    """The variable of the clinician (who has room, `_fitting_clinicians`) filling the slot."""
    var = cm.model.new_bool_var(f"a_{task.index}_{slot}_{clinician_id}_{day}")
    cm.a[(task.index, slot, clinician_id, day)] = var
    if crowds_trip_day(cm.instance, cm.fixed_load, task, clinician_id, day):
        cm.objective_terms.append(CROWDED_POINTS * var)
    return var


def _clinicians_distinct_within_step(cm: ClinicModel, task: Task) -> None:
    professions = task.step.professions
    if len(set(professions)) == len(professions):
        return
    groups: dict[tuple[str, int], list[Var]] = defaultdict(list)
    for (index, _, clinician_id, day), var in cm.a.items():
        if index == task.index:
            groups[(clinician_id, day)].append(var)
    for variables in groups.values():
        cm.model.add_at_most_one(variables)


def add_prerequisites_and_waiting_times(cm: ClinicModel) -> None:
    """A step comes no earlier than each prerequisite's day plus its waiting days."""
    free = {t.index for t in cm.free}
    for task in cm.free:
        for pred, lag in task.preds:
            if pred in free:
                lag = planning_lag(cm.instance, task, pred, lag)
                cm.model.add(cm.day_of(task) >= cm.day_of(cm.instance.tasks[pred]) + lag)


def add_clinician_minutes_and_travel(cm: ClinicModel) -> None:
    """Roster minutes per clinician-day (holidays/absences have none), one trip a day.

    Travel time to a municipality uses the clinician's working day; several children in
    one municipality share one trip (ambulating team); a clinician away from base sees no
    one in person at the base that day, and a crowded step (`Instance.is_crowded`) on a
    trip day costs `CROWDED_POINTS` (the search's objective only).
    """
    instance, model = cm.instance, cm.model
    by_day: dict[tuple[str, int], list[tuple[Task, Var]]] = defaultdict(list)
    for (index, _, clinician_id, day), var in cm.a.items():
        by_day[(clinician_id, day)].append((instance.tasks[index], var))
    for (clinician_id, day), items in by_day.items():
        key = (clinician_id, day)
        fixed_minutes = cm.fixed_load.minutes[key]
        variables = [var for _, var in items]
        minutes = weighted(variables, [task.staff_minutes for task, _ in items])
        model.add(minutes <= max(0, instance.capacity[clinician_id][day] - fixed_minutes))
        trips = _trip_vars(cm, clinician_id, day, items)
        slots_and_travel = weighted(
            [*variables, *trips.values()],
            [
                *(instance.slot_minutes(task) for task, _ in items),
                *(instance.trip_block_minutes(clinician_id, m) for m in trips),
            ],
        )
        spare = instance.span[clinician_id][day] - cm.fixed_load.slot[key]
        model.add(slots_and_travel <= max(0, spare - cm.fixed_load.travel_minutes[key]))
        if trips:
            model.add_at_most_one(trips.values())
            for task, var in items:
                if instance.at_base_in_person(task, clinician_id):
                    model.add(var + sum(trips.values()) <= 1)
                elif instance.is_crowded(task, clinician_id):
                    crowded = model.new_bool_var(f"crowded_{task.index}_{clinician_id}")
                    model.add(var + sum(trips.values()) <= 1 + crowded)
                    cm.objective_terms.append(CROWDED_POINTS * crowded)


def weighted(variables: list[Var], coefficients: list[int]) -> cp_model.LinearExprT:
    """The sum of coefficient times variable (built at once: faster than `sum()`)."""
    return cp_model.LinearExpr.weighted_sum(variables, coefficients)


def _trip_vars(
    cm: ClinicModel, clinician_id: str, day: int, items: list[tuple[Task, Var]]
) -> dict[str, Var]:
    trips: dict[str, Var] = {}
    if (clinician_id, day) in cm.fixed_load.trip:
        return trips
    for task, var in items:
        if not cm.instance.needs_trip(task, clinician_id):
            continue
        destination = task.destination or ""
        if destination not in trips:
            trip = cm.model.new_bool_var(f"trip_{clinician_id}_{day}_{destination}")
            trips[destination] = trip
            cm.trip[(clinician_id, day, destination)] = trip
            km = cm.instance.trip_km(clinician_id, destination)
            cm.objective_terms.append(cm.instance.settings.weights.staff_km * km * trip)
        cm.model.add_implication(var, trips[destination])
    capacity = cm.instance.capacity[clinician_id][day]
    for destination, trip in trips.items():
        there = [
            (t, v)
            for t, v in items
            if t.destination == destination and cm.instance.needs_trip(t, clinician_id)
        ]
        # Redundant with the implications; tightens the LP bound on staff km.
        there_minutes = [t.staff_minutes for t, _ in there]
        cm.model.add(weighted([*(v for _, v in there), trip], [*there_minutes, -capacity]) <= 0)
    return trips


def add_family_day_limits(cm: ClinicModel) -> None:
    """One visit per family per calendar day, at most `family_max_minutes` of steps in it.

    Each (case, day) the family may come has a boolean; the number of visit days (their
    sum) is minimised, which bundles family steps into as few days as possible.
    """
    by_day: dict[tuple[str, int], list[tuple[Task, Var]]] = defaultdict(list)
    for task in cm.free:
        if task.family_minutes:
            for day in cm.windows[task.index]:
                by_day[(task.case_id, day)].append((task, cm.y[(task.index, day)]))
    weight = cm.instance.settings.weights.visit_day
    for (case_id, day), items in by_day.items():
        _one_place_per_visit(cm, case_id, day, items)
        limit = cm.instance.family_limit(case_id)
        spare = max(0, limit - cm.fixed_load.family_minutes[(case_id, day)])
        variables, family_minutes = [v for _, v in items], [t.family_minutes for t, _ in items]
        if day in cm.fixed_load.family_days[case_id]:
            cm.model.add(weighted(variables, family_minutes) <= spare)
            continue
        visit = cm.model.new_bool_var(f"visit_{case_id}_{day}")
        cm.family_day[(case_id, day)] = visit
        for _, var in items:
            cm.model.add_implication(var, visit)
        # minutes <= spare * visit is the same rule, but gives the LP bound visit days.
        cm.model.add(weighted([*variables, visit], [*family_minutes, -spare]) <= 0)
        cm.objective_terms.append(weight * visit)


def _one_place_per_visit(
    cm: ClinicModel, case_id: str, day: int, items: list[tuple[Task, Var]]
) -> None:
    """In-person family steps on one day share one place (video steps go anywhere)."""
    fixed_place = cm.fixed_load.family_place.get((case_id, day))
    for first, second in itertools.combinations(items, 2):
        places = {first[0].destination, second[0].destination}
        if None not in places and len(places) == 2:
            cm.model.add_at_most_one([first[1], second[1]])
    for task, var in items:
        if fixed_place is not None and task.destination not in (None, fixed_place):
            cm.model.add(var == 0)


def add_booking_moves(cm: ClinicModel) -> None:
    """A booked appointment that may move costs `weights.move` when it does."""
    weight = cm.instance.settings.weights.move
    for task in cm.free:
        if task.booking is None:
            continue
        day = cm.instance.index_of(task.booking.day)
        kept = [cm.a.get((task.index, s, c, day)) for s, c in enumerate(task.booking.clinician_ids)]
        if any(var is None for var in kept):
            cm.constant += weight
            continue
        is_moved = cm.model.new_bool_var(f"moved_{task.index}")
        cm.moved[task.index] = is_moved
        for var in kept:
            cm.model.add(is_moved >= 1 - var)
        cm.objective_terms.append(weight * is_moved)


def add_continuity(cm: ClinicModel) -> None:
    """Prefer the same clinician of a profession for all of one child's steps."""
    weight = cm.instance.settings.weights.continuity
    groups: dict[tuple[str, str], dict[str, list[Var]]] = defaultdict(lambda: defaultdict(list))
    for (index, slot, clinician_id, _), var in cm.a.items():
        task = cm.instance.tasks[index]
        profession = task.step.professions[slot].value
        groups[(task.case_id, profession)][clinician_id].append(var)
    for (case_id, profession), by_clinician in groups.items():
        already = set(cm.fixed_load.used.get((case_id, profession), []))
        count: list[cp_model.LinearExprT] = []
        for clinician_id, variables in by_clinician.items():
            if clinician_id in already:
                continue
            used = cm.model.new_bool_var(f"used_{case_id}_{clinician_id}")
            cm.used[(case_id, profession, clinician_id)] = used
            for var in variables:
                cm.model.add_implication(var, used)
            count.append(used)
        cm.objective_terms.append(weight * (sum(count) + len(already) - 1))


def add_lead_time_costs(cm: ClinicModel) -> None:
    """Days to feedback, lateness beyond 90 and 140 days, and a small cost per step day."""
    weights = cm.instance.settings.weights
    for task in cm.free:
        day = cm.day_of(task)
        cm.objective_terms.append(weights.step_day * day)
        if not task.is_feedback:
            continue
        lead = day + lead_offset_days(cm.instance, task.case_id)
        high = cm.instance.horizon + abs(lead_offset_days(cm.instance, task.case_id)) + 1
        late_90 = cm.model.new_int_var(0, high, f"late90_{task.case_id}")
        late_140 = cm.model.new_int_var(0, high, f"late140_{task.case_id}")
        cm.model.add(late_90 >= lead - 90)
        cm.model.add(late_140 >= lead - 140)
        cm.late[task.index] = (late_90, late_140)
        cm.objective_terms.append(
            weights.feedback_day * lead + weights.late_90 * late_90 + weights.late_140 * late_140
        )


def _fixed_constants(cm: ClinicModel) -> int:
    """Objective points of fixed bookings (so the objective equals `evaluate`)."""
    instance, weights = cm.instance, cm.instance.settings.weights
    total = 0
    for index, (day, _) in cm.fixed.items():
        task = instance.tasks[index]
        if task.is_feedback:
            total += lateness_cost(instance, day + lead_offset_days(instance, task.case_id))
    total += weights.visit_day * sum(len(days) for days in cm.fixed_load.family_days.values())
    total += weights.staff_km * sum(
        instance.trip_km(c, m) for (c, _), m in cm.fixed_load.trip.items()
    )
    grouped = {(t.case_id, p.value) for t in cm.free for p in t.step.professions}
    for (case_id, profession), ids in cm.fixed_load.used.items():
        if (case_id, profession.value) not in grouped:
            total += weights.continuity * (len(ids) - 1)
    return total


# --- hints, solving and LNS -----------------------------------------------------------------


def add_hints(cm: ClinicModel, assignment: Assignment) -> None:
    """Hint every variable with the given (greedy) assignment: a complete solution."""
    model, instance = cm.model, cm.instance
    model.clear_hints()
    hints: list[tuple[Var, int]] = [
        (var, assignment[index][0] == day) for (index, day), var in cm.y.items()
    ]
    hints += [(var, assignment[index][0]) for index, var in cm.day.items()]
    hints += [
        (var, assignment[index][0] == day and assignment[index][1][slot] == clinician_id)
        for (index, slot, clinician_id, day), var in cm.a.items()
    ]
    trips, visits, used = set(), set(), set()
    for task in cm.free:
        day, clinician_ids = assignment[task.index]
        if task.family_minutes:
            visits.add((task.case_id, day))
        for profession, clinician_id in zip(task.step.professions, clinician_ids, strict=True):
            used.add((task.case_id, profession.value, clinician_id))
            if instance.needs_trip(task, clinician_id):
                trips.add((clinician_id, day, task.destination or ""))
    hints += [(var, key in trips) for key, var in cm.trip.items()]
    hints += [(var, key in visits) for key, var in cm.family_day.items()]
    hints += [(var, key in used) for key, var in cm.used.items()]
    hints += [
        (var, moved(instance, instance.tasks[index], assignment[index]))
        for index, var in cm.moved.items()
    ]
    for index, (late_90, late_140) in cm.late.items():
        task = instance.tasks[index]
        lead = assignment[index][0] + lead_offset_days(instance, task.case_id)
        hints += [(late_90, max(0, lead - 90)), (late_140, max(0, lead - 140))]
    _add_hints_at_once(model, hints)


def _add_hints_at_once(model: cp_model.CpModel, hints: list[tuple[Var, int]]) -> None:
    """`model.add_hint` for each (variable, value), in one go: an LNS round hints some
    thousand variables, and one call each took a tenth of the round's Python time. Every
    variable here is a plain (not negated) one."""
    hint = model.proto.solution_hint
    hint.vars.extend([var.index for var, _ in hints])
    hint.values.extend([int(value) for _, value in hints])


def extract(cm: ClinicModel, report: SolveReport) -> Assignment:
    """The assignment of the best solution (fixed bookings included)."""
    assignment: Assignment = dict(cm.fixed)
    chosen: dict[int, dict[int, str]] = defaultdict(dict)
    days: dict[int, int] = {}
    for (index, day), var in cm.y.items():
        if report.value(var):
            days[index] = day
    for (index, slot, clinician_id, day), var in cm.a.items():
        if days.get(index) == day and report.value(var):
            chosen[index][slot] = clinician_id
    for task in cm.free:
        slots = chosen[task.index]
        assignment[task.index] = (days[task.index], tuple(slots[s] for s in sorted(slots)))
    return assignment


def solve_day_level(
    instance: Instance,
    greedy: Assignment,
    watch: Watch | None = None,
    checkpoint: Checkpoint | None = None,
) -> tuple[Assignment, SolveReport, str]:
    """Improve the greedy assignment with CP-SAT (and LNS for big plans) within the budget.

    With a `checkpoint` (not in deterministic mode), LNS hands its best to it at each of
    `checkpoint_times` (shares of its time; the planner gives it clock times while the
    rounds go on); the steps it returns were left out of their day there, and the rounds
    after it re-solve their cases first, with those days avoided (`Instance.avoid`).

    Returns:
        The best assignment, the solve report and the method: "cpsat", "cpsat+lns", or
        "greedy" when CP-SAT finds nothing in time (the greedy assignment, unchanged).
        A big plan (at least `lns_min_tasks` steps to place) goes to LNS from the greedy
        straight away: the whole model's first seconds improved it less than LNS rounds
        do, and its bound is about half of ours (`clinic_bound`), so it has none. A
        smaller plan's bound is the bound of its model. A smaller plan's model also
        places the steps the greedy left out where it can (`_with_left_out`); when it
        finds no plan with them, it is solved again without them.
    """
    settings = instance.settings
    started = time.perf_counter()
    watch = watch or Watch()
    to_place = sum(1 for t in instance.tasks if t.index in greedy and not t.fixed)
    if to_place < settings.lns_min_tasks:
        watch.report(stage="cpsat")
        with_left_out = _with_left_out(instance, greedy)
        attempts = [with_left_out, greedy] if len(with_left_out) > len(greedy) else [greedy]
        for hints in attempts:  # the steps the greedy left out too, else without them
            cm = build_model(instance, hints)
            budget = settings.budget_s
            if not settings.deterministic:  # else the same budget whatever the machine's load
                budget -= time.perf_counter() - started
            report = solve(cm.model, _solver_settings(instance, budget), watch)
            if report.has_solution:
                return extract(cm, report), report, "cpsat"
        return greedy, report, "greedy"
    watch.report(stage="lns")
    if settings.deterministic:
        checkpoint = None
    deadline = started + settings.budget_s
    best = improve_with_lns(instance, greedy, deadline, watch, checkpoint=checkpoint)
    objective = float(evaluate(instance, best))
    wall = time.perf_counter() - started
    report = SolveReport("FEASIBLE", objective, None, None, wall, cp_model.CpSolver())
    return best, report, "cpsat+lns"


def _with_left_out(instance: Instance, greedy: Assignment) -> Assignment:
    """The greedy assignment with every step it left out as a hint (`hinted_anywhere`).
    The greedy places a case's steps one by one around the rest, so it can leave a
    feedback meeting out where the model, moving the case's earlier steps, finds a day
    (one new referral into a booked plan)."""
    left_out = [t.index for t in instance.tasks if t.index not in greedy]
    return hinted_anywhere(instance, greedy, left_out)


def hinted_anywhere(instance: Instance, assignment: Assignment, indexes: list[int]) -> Assignment:
    """`assignment` with the tasks `indexes` on the horizon's last day with each slot's
    first candidate: only a hint, so a model whose windows span the whole horizon places
    them where they fit (`build_model` places every task of the assignment it is given)."""
    result = dict(assignment)
    for index in indexes:
        task = instance.tasks[index]
        result[index] = (instance.horizon - 1, tuple(slot[0] for slot in task.candidates))
    return result


def deterministic_round_s(settings: PlanSettings) -> float:
    """Deterministic seconds of one LNS round: the fixed number of rounds share the budget
    (at most `LNS_ROUND_S` each), so a deterministic plan keeps to its budget and every
    machine agrees on it."""
    return min(LNS_ROUND_S, max(0.05, settings.budget_s / max(1, settings.lns_rounds)))


def _solver_settings(instance: Instance, budget_s: float) -> SolverSettings:
    settings = instance.settings
    return SolverSettings(
        time_budget_s=max(0.05, budget_s),
        workers=settings.workers,
        random_seed=settings.seed,
        deterministic=settings.deterministic,
    )


def solve(
    model: cp_model.CpModel,
    settings: SolverSettings,
    watch: Watch | None = None,
    report: bool = True,
    linearization_level: int | None = None,
) -> SolveReport:
    """Solve with the shared settings plus the clinic model's own parameters.

    Symmetry detection is off (it can cut off the greedy hint, losing the warm start) and
    presolve runs one pass without probing (seconds saved on clinic-scale models). With a
    watch, solutions and the bound are reported (unless `report` is False) and a stop
    request ends the search with the best solution so far. `linearization_level` sets
    CP-SAT's (None keeps its default).
    """
    solver = cp_model.CpSolver()
    settings.apply(solver)
    solver.parameters.symmetry_level = 0
    solver.parameters.max_presolve_iterations = 1
    solver.parameters.cp_model_probing_level = 0
    if linearization_level is not None:
        solver.parameters.linearization_level = linearization_level
    started = time.perf_counter()
    if watch is None:
        code = solver.solve(model)
    else:
        with watch.attached(solver, report) as callback:
            code = solver.solve(model, callback)
    wall = time.perf_counter() - started
    status = solver.status_name(code)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return SolveReport(status, None, None, None, wall, solver)
    objective, bound = float(solver.objective_value), float(solver.best_objective_bound)
    gap = 0.0 if code == cp_model.OPTIMAL else relative_gap(objective, bound)
    return SolveReport(status, objective, bound, gap, wall, solver)


def improve_with_lns(
    instance: Instance,
    assignment: Assignment,
    deadline: float,
    watch: Watch | None = None,
    focus: Sequence[int] = (),
    checkpoint: Checkpoint | None = None,
) -> Assignment:
    """Re-solve a few cases at a time with every other case fixed, until the deadline.

    Each round builds a small model of the chosen cases only (the rest is fixed load).
    Every other round re-places `WIDE_ROUND_CASES` cases drawn at random anywhere in the
    horizon (a case whose visits or trips could be bundled weeks away gets there); the
    rounds between keep each step near its day and take turns: cases with steps in the
    same place within a few days of each other (their trips can be pooled, ambulating
    team), cases sharing a destination municipality, and cases drawn at random. Draws use
    a numpy Generator
    seeded by `settings.seed`; a round's result is kept only when it lowers the objective.

    With `settings.workers` >= 2 (and not deterministic) that many rounds run at once in
    threads (CP-SAT releases the GIL while it solves), one CP-SAT worker each; see
    `_parallel_rounds`. Deterministic settings always run the rounds one after another.

    A step on a day in `instance.avoid` costs `AVOID_POINTS` more; the first rounds
    re-solve the cases of the `focus` steps, each with the cases sharing its clinicians
    within a few days (`focus_neighbourhood`).

    With a `checkpoint`, a thread of its own hands it the best so far at each of
    `checkpoint_times` while the rounds go on (a check takes about a second on 60 cases,
    time the rounds would otherwise lose); the steps it returns become focus steps then.
    """
    search = _Search(instance, assignment, watch or Watch())
    search.refocus(focus)
    deterministic = instance.settings.deterministic and instance.settings.lns_rounds > 0
    if not search.draws.case_ids:
        return assignment
    threads = 1 if instance.settings.deterministic else min(LNS_THREADS, instance.settings.workers)
    if threads > 1 or checkpoint is not None:
        _parallel_rounds(search, deadline, threads, checkpoint)
        return search.best
    while deterministic or time.perf_counter() < deadline - 0.1:
        if not search.step(deadline):
            break
    return search.best


#: LNS rounds solved at the same time (threads), at most `settings.workers`.
LNS_THREADS = 2
#: Shares of the LNS time after which a big plan gets clock times (`solve_day_level`).
#: Frequent checks keep the search near plans that have clock times: on `clinic_scale`
#: (14 solver seeds each) six gave a mean objective of 158.5k and 2 runs with a step
#: left out, against 159.6k and 4 runs for two (0.45, 0.75).
CHECKPOINTS_AT = (0.25, 0.4, 0.55, 0.7, 0.82, 0.92)
#: A checkpoint comes at least this many seconds of search after the one before (a
#: check takes about a second on 60 cases, so short budgets keep their time to search).
CHECKPOINT_MIN_GAP_S = 2.0
#: Cost points of a step on a day the clock-time stage found no time on (about the cost
#: of the repair moving it, and the steps after it, weeks later).
AVOID_POINTS = 2000
#: A focus neighbourhood takes this many other cases of the step's clinicians ...
FOCUS_NEIGHBOURS = 2
#: ... with steps within this many days of its day.
FOCUS_NEAR_DAYS = 3

#: Called with the best assignment at the checkpoint; returns the steps the clock-time
#: stage left out of their day (their days are added to `Instance.avoid`).
Checkpoint = Callable[[Assignment], list[int]]


def checkpoint_times(start: float, deadline: float) -> list[float]:
    """The `time.perf_counter()` moments of the checkpoints of LNS running from `start`
    to `deadline`: `CHECKPOINTS_AT`, less those within `CHECKPOINT_MIN_GAP_S` seconds
    of the one before (or of the start)."""
    times: list[float] = []
    previous = start
    for share in CHECKPOINTS_AT:
        at = start + share * (deadline - start)
        if at - previous >= CHECKPOINT_MIN_GAP_S:
            times.append(at)
            previous = at
    return times


def focus_neighbourhood(
    instance: Instance,
    assignment: Assignment,
    index: int,
    where: tuple[int, tuple[str, ...]] | None = None,
) -> set[str]:
    """The case of step `index` and up to `FOCUS_NEIGHBOURS` other cases with the most
    steps of its clinicians within `FOCUS_NEAR_DAYS` of its day (re-solving them too
    makes room); the day and clinicians are `where` when given (a place the step had in
    another plan), else its own in `assignment`."""
    day, clinician_ids = where if where is not None else assignment[index]
    own = instance.tasks[index].case_id
    counts: dict[str, int] = defaultdict(int)
    for other, (other_day, other_ids) in assignment.items():
        task = instance.tasks[other]
        if task.case_id == own or task.fixed or abs(other_day - day) > FOCUS_NEAR_DAYS:
            continue
        if set(other_ids) & set(clinician_ids):
            counts[task.case_id] += 1
    return {own, *sorted(counts, key=lambda c: (-counts[c], c))[:FOCUS_NEIGHBOURS]}


class Neighbourhoods:
    """The cases each LNS round re-solves, drawn with a numpy Generator (`rng`).

    Every other round re-places `WIDE_ROUND_CASES` cases drawn at random anywhere in the
    horizon; the rounds between keep each step near its day and take turns: cases with
    steps in the same place within a few days of each other (`_trip_neighbourhood`),
    cases sharing a destination municipality, and cases drawn at random. Neighbourhoods
    in `queue` (cases, anywhere in the horizon or not) come first.
    """

    def __init__(self, instance: Instance, assignment: Assignment, rng: np.random.Generator):
        self.instance = instance
        self.rng = rng
        self.case_ids = sorted(
            {t.case_id for t in instance.tasks if not t.fixed and t.index in assignment}
        )
        self.size = min(instance.settings.lns_cases_per_round, len(self.case_ids))
        self.groups = _cases_by_destination(instance, self.case_ids)
        self.queue: list[tuple[set[str], bool]] = []
        self.rounds = 0

    def draw(self, best: Assignment) -> tuple[set[str], bool] | None:
        """The next round's cases and whether they may go anywhere in the horizon (`best`
        is the plan the round starts from), or None after `settings.lns_rounds` rounds."""
        self.rounds += 1
        if self.queue:
            return self.queue.pop(0)
        limit = self.instance.settings.lns_rounds
        if not self.case_ids or (limit and self.rounds > limit):
            return None
        if self.rounds % 2 == 1:
            size = min(WIDE_ROUND_CASES, len(self.case_ids))
            return set(self.rng.choice(self.case_ids, size=size, replace=False).tolist()), True
        turn = (self.rounds // 2) % 3
        if turn == 0:
            size = self.size + TRIP_EXTRA_CASES
            trip = _trip_neighbourhood(self.instance, best, self.rng, self.case_ids, size)
            return trip, False
        chosen = _neighbourhood(self.rng, self.case_ids, self.groups, self.size, related=turn == 1)
        return chosen, False


class _Search:
    """The state LNS rounds share: the best assignment, its value and the draws."""

    def __init__(self, instance: Instance, assignment: Assignment, watch: Watch) -> None:
        self.instance = instance
        self.watch = watch
        self.draws = Neighbourhoods(
            instance, assignment, np.random.default_rng(instance.settings.seed)
        )
        self.best, self.value = assignment, self.score(assignment)
        self.version = 0  # counts accepted improvements
        self.lock = threading.Lock()

    def refocus(self, steps: Sequence[int]) -> None:
        """Re-solve the cases of `steps` (each with its neighbours) first, and score the
        best again (`Instance.avoid` may have grown)."""
        self.draws.queue += [
            (focus_neighbourhood(self.instance, self.best, i), False) for i in steps
        ]
        self.value = self.score(self.best)

    def draw(self) -> tuple[set[str], bool] | None:
        """The next round's cases and whether they may go anywhere in the horizon, or None
        when the search stops (rounds, stop request)."""
        if self.watch.stopped:
            return None
        return self.draws.draw(self.best)

    def step(self, deadline: float) -> bool:
        """One round: draw its cases, re-solve them from the best so far (outside the lock,
        so rounds of other threads run meanwhile) and offer the result; False when the
        search stops."""
        with self.lock:
            drawn = self.draw()
            base, version = self.best, self.version
        if drawn is None:
            return False
        chosen, wide = drawn
        candidate = _lns_round(self.instance, base, chosen, deadline, self.watch, full_window=wide)
        with self.lock:
            self.offer(candidate, chosen, version)
        return True

    def offer(
        self, candidate: Assignment | None, chosen: set[str], version: int | None = None
    ) -> None:
        """Keep `candidate` (a round's result for the `chosen` cases) when it is better.

        A round built on an older best (`version`) would undo the improvements made
        since; its chosen cases are then carried over onto the current best instead, when
        every clinician-day still keeps its rules (`merged`) and that is better.
        """
        if candidate is None:
            return
        if version is not None and version != self.version:
            candidate = merged(self.instance, self.best, candidate, chosen)
            if candidate is None:
                return
        objective = evaluate(self.instance, candidate)
        value = objective + self.search_points(candidate)
        if value < self.value:
            self.best, self.value = candidate, value
            self.version += 1
            self.watch.report(objective=float(objective))

    def score(self, assignment: Assignment) -> int:
        """The search's score: the objective plus `search_points`."""
        return evaluate(self.instance, assignment) + self.search_points(assignment)

    def search_points(self, assignment: Assignment) -> int:
        """What the search adds to the objective (the plan reports the objective only):
        `avoided_points` and `crowded_points`."""
        return self.avoided_points(assignment) + crowded_points(self.instance, assignment)

    def avoided_points(self, assignment: Assignment) -> int:
        """`AVOID_POINTS` for each step on a day it should avoid (`Instance.avoid`)."""
        avoid = self.instance.avoid
        on_avoided = sum(1 for i, (day, _) in assignment.items() if day in avoid.get(i, ()))
        return AVOID_POINTS * on_avoided


def merged(
    instance: Instance, best: Assignment, candidate: Assignment, chosen: set[str]
) -> Assignment | None:
    """`best` with the `chosen` cases placed as in `candidate`, or None when that breaks a
    clinician-day rule. Prerequisites and family limits only link steps of one case, so
    only the clinicians' days (minutes, clock-grid span, trips) need checking."""
    moving = [t for t in instance.tasks if t.case_id in chosen and t.index in candidate]
    result = dict(best)
    for task in moving:
        result.pop(task.index, None)
    load = DayLoad()
    for index, placed in result.items():
        load.add(instance, instance.tasks[index], *placed)
    for task in moving:
        day, clinician_ids = candidate[task.index]
        if not task.fixed and not all(
            clinician_fits(instance, load, task, c, day) for c in clinician_ids
        ):
            return None
        load.add(instance, task, day, clinician_ids)
        result[task.index] = candidate[task.index]
    return result


def _parallel_rounds(
    search: _Search, deadline: float, threads: int, checkpoint: Checkpoint | None = None
) -> None:
    """Run LNS rounds in `threads` threads until the deadline; each round starts from the
    best so far and is kept only if no other round improved it in the meantime. With a
    `checkpoint`, one more thread checks the best at `checkpoint_times` (`_check_at`)."""

    def work() -> None:
        while time.perf_counter() < deadline - 0.1:
            if not search.step(deadline):
                return

    jobs = [work] * threads
    if checkpoint is not None:
        jobs.append(lambda: _check_at(search, checkpoint, deadline))
    run_in_threads(jobs)


def run_in_threads(jobs: Sequence[Callable[[], None]]) -> None:
    """Run each job in a thread of its own and wait for all (an error in one is raised)."""
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()


def _check_at(search: _Search, checkpoint: Checkpoint, deadline: float) -> None:
    """Hand the search's best to `checkpoint` at each of `checkpoint_times` with at least
    `CHECKPOINT_MIN_GAP_S` seconds left, and focus the rounds on the steps it returns."""
    for at in checkpoint_times(time.perf_counter(), deadline):
        while time.perf_counter() < at and not search.watch.stopped:
            time.sleep(min(0.1, max(0.0, at - time.perf_counter())))
        if search.watch.stopped or deadline - time.perf_counter() < CHECKPOINT_MIN_GAP_S:
            return
        with search.lock:
            best = search.best
        failed = checkpoint(best)
        with search.lock:
            search.refocus(failed)


def relieve(
    instance: Instance, assignment: Assignment, case_ids: set[str], deadline: float
) -> Assignment | None:
    """Re-place the given cases (with every other case fixed) keeping each task off its
    `instance.avoid` days: the first solution found, even when it scores worse at day
    level (the assignment given has steps the clock-time stage could not place)."""
    if instance.settings.deterministic:
        budget = deterministic_round_s(instance.settings)
    else:
        budget = deadline - time.perf_counter()
    if budget <= 0.05 or not case_ids:
        return None
    return _lns_round(instance, assignment, case_ids, time.perf_counter() + budget, Watch())


def replace_cases(
    instance: Instance,
    assignment: Assignment,
    case_ids: set[str],
    deadline: float,
    anywhere: bool = True,
) -> Assignment | None:
    """The given cases' steps placed again on any day of the horizon (`anywhere`, else
    near their present days), every other case fixed (the best found by `deadline`, at
    most `LNS_ROUND_S` seconds), or None."""
    return _lns_round(instance, assignment, case_ids, deadline, Watch(), full_window=anywhere)


def _cases_by_destination(instance: Instance, case_ids: list[str]) -> dict[str, list[str]]:
    """Cases grouped by the municipality most of their away-from-base steps happen in."""
    wanted = set(case_ids)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for task in instance.tasks:
        if task.case_id in wanted and _needs_any_trip(instance, task):
            counts[task.case_id][task.destination or ""] += 1
    groups: dict[str, list[str]] = defaultdict(list)
    for case_id in case_ids:
        places = counts.get(case_id)
        key = max(sorted(places), key=lambda m: places[m]) if places else ""
        groups[key].append(case_id)
    return {key: members for key, members in groups.items() if len(members) > 1}


def _needs_any_trip(instance: Instance, task: Task) -> bool:
    return any(instance.needs_trip(task, c) for slot in task.candidates for c in slot)


def _trip_neighbourhood(
    instance: Instance,
    assignment: Assignment,
    rng: np.random.Generator,
    case_ids: list[str],
    size: int,
) -> set[str]:
    """A random case with a step away from base, and the cases with most steps in the
    same municipality within `TRIP_NEAR_DAYS` of its days (their trips may pool)."""
    wanted = set(case_ids)
    away: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for index, (day, _) in assignment.items():
        task = instance.tasks[index]
        if task.case_id in wanted and not task.fixed and _needs_any_trip(instance, task):
            away[task.case_id].append((task.destination or "", day))
    if not away:
        return set(rng.choice(case_ids, size=min(size, len(case_ids)), replace=False).tolist())
    travelling = sorted(away)
    seed = travelling[int(rng.integers(len(travelling)))]
    score: dict[str, float] = {}
    for case_id in travelling:
        if case_id == seed:
            continue
        near = sum(
            1
            for place, day in away[case_id]
            for seed_place, seed_day in away[seed]
            if place == seed_place and abs(day - seed_day) <= TRIP_NEAR_DAYS
        )
        if near:
            score[case_id] = near + float(rng.random())  # ties broken at random
    others = sorted(score, key=lambda c: -score[c])[: size - 1]
    return {seed, *others}


def _neighbourhood(
    rng: np.random.Generator,
    case_ids: list[str],
    groups: dict[str, list[str]],
    size: int,
    related: bool,
) -> set[str]:
    if related and groups:
        members = groups[sorted(groups)[int(rng.integers(len(groups)))]]
        count = min(size, len(members))
        return set(rng.choice(members, size=count, replace=False).tolist())
    return set(rng.choice(case_ids, size=size, replace=False).tolist())


def _lns_round(
    instance: Instance,
    assignment: Assignment,
    chosen: set[str],
    deadline: float,
    watch: Watch,
    full_window: bool = False,
) -> Assignment | None:
    """One LNS round; prerequisites only link steps of one case, so fixing whole cases
    keeps every precedence intact. With `full_window` the chosen cases' steps may go to
    any day of the horizon (else near their present days)."""
    tasks = []
    for task in instance.tasks:
        if task.index not in assignment or task.fixed or task.case_id in chosen:
            tasks.append(task)
        else:
            tasks.append(instance.fixed_copy(task))
    sub = dataclasses.replace(instance, tasks=tasks)
    if instance.settings.deterministic:
        budget = deterministic_round_s(instance.settings)
    else:
        budget = min(LNS_ROUND_S, deadline - time.perf_counter())
    if budget <= 0.05:
        return None
    sub_model = build_model(sub, assignment, full_window=full_window)
    round_settings = dataclasses.replace(_solver_settings(instance, budget), workers=LNS_WORKERS)
    report = solve(
        sub_model.model, round_settings, watch, report=False, linearization_level=LNS_LINEARIZATION
    )
    if not report.has_solution:
        return None
    return extract(sub_model, report)
