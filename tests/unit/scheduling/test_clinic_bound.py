"""Lower-bound parts checked against brute force on tiny random inputs: never above the optimum."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from essence.scheduling.clinic_bound import (
    DaysApart,
    days_apart,
    lower_bound,
    ranked_assignment,
    srpt_days,
    usable_minutes,
)
from essence.scheduling.clinic_greedy import greedy_schedule
from essence.scheduling.clinic_instance import build_instance
from essence.scheduling.clinic_objective import evaluate_parts
from essence.scheduling.clinic_problem import default_template
from essence.scheduling.clinic_visit_bound import fewest_groups
from tests.unit.scheduling.clinic_factories import START, case, clinician
from tests.unit.scheduling.clinic_factories import settings as plan_settings

PLACES = ["", "Umeå", "Lycksele"]


def brute_force_days(steps, orders, limit) -> int:
    """Fewest visit days over every day numbering 0..n-1 that keeps the rules."""
    count = len(steps)
    best = count
    for days in itertools.product(range(count), repeat=count):
        if any(days[later] < days[first] + int(strict) for first, later, strict in orders):
            continue
        by_day: dict[int, list[int]] = {}
        for position, day in enumerate(days):
            by_day.setdefault(day, []).append(position)
        fits = all(
            sum(steps[s][0] for s in members) <= limit
            and len({steps[s][1] for s in members if steps[s][1]}) <= 1
            for members in by_day.values()
        )
        if fits:
            best = min(best, len(by_day))
    return best


@st.composite
def family_steps(draw: st.DrawFn):
    count = draw(st.integers(1, 5))
    steps = tuple(
        (draw(st.sampled_from([30, 45, 60, 90, 120])), draw(st.sampled_from(PLACES)))
        for _ in range(count)
    )
    orders = tuple(
        sorted(
            {
                (first, later, draw(st.booleans()))
                for first, later in itertools.combinations(range(count), 2)
                if draw(st.booleans())
            }
        )
    )
    return steps, orders, draw(st.sampled_from([120, 180, 240]))


@settings(max_examples=60, deadline=None)
@given(family_steps())
def test_fewest_visit_days_equals_the_brute_force_optimum(drawn):
    steps, orders, limit = drawn
    assert fewest_groups(steps, orders, limit) == brute_force_days(steps, orders, limit)


def test_three_ninety_minute_steps_leave_sixty_of_240_minutes_unusable():
    assert usable_minutes(240, (90,)) == 180
    assert usable_minutes(240, (90, 120)) == 240
    assert usable_minutes(50, (60,)) == 0


@settings(max_examples=60, deadline=None)
@given(
    free=st.integers(0, 300),
    lengths=st.lists(st.integers(15, 150), min_size=1, max_size=3, unique=True),
    counts=st.lists(st.integers(0, 4), min_size=3, max_size=3),
)
def test_usable_minutes_is_never_below_what_steps_can_fill(free, lengths, counts):
    lengths = tuple(sorted(lengths))
    filled = sum(n * c for n, c in zip(lengths, counts, strict=False))
    usable = usable_minutes(free, lengths)
    assert usable <= free
    if filled <= free:
        assert usable >= filled


def earliest_kth_completions(capacity, jobs) -> list[int]:
    """Per k, the earliest day any whole-minute schedule finishes its k-th job (brute force
    over every split of each day's minutes among released jobs)."""
    horizon = len(capacity)
    best = [horizon] * len(jobs)

    def search(day: int, left: tuple[int, ...], done: tuple[int, ...]) -> None:
        if day == horizon or all(m == 0 for m in left):
            finished = sorted(done + (horizon,) * (len(jobs) - len(done)))
            for k, value in enumerate(finished):
                best[k] = min(best[k], value)
            return
        ranges = [
            range(0, min(m, capacity[day]) + 1) if jobs[j][0] <= day and m else range(1)
            for j, m in enumerate(left)
        ]
        for split in itertools.product(*ranges):
            if sum(split) > capacity[day]:
                continue
            after = tuple(m - s for m, s in zip(left, split, strict=True))
            new = tuple(day for m, a in zip(left, after, strict=True) if m and not a)
            search(day + 1, after, done + new)

    search(0, tuple(m for _, m in jobs), tuple(0 for _, m in jobs if m == 0))
    return best


@settings(max_examples=40, deadline=None)
@given(
    capacity=st.lists(st.integers(0, 3), min_size=1, max_size=4),
    jobs=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=3),
)
def test_shortest_remaining_first_finishes_the_kth_job_no_later_than_any_schedule(capacity, jobs):
    assert srpt_days(capacity, jobs) == earliest_kth_completions(capacity, jobs)


def brute_force_ranked(tables, earliest, ranks) -> int:
    """Least total cost over every placement of the rows on days whose k-th smallest day
    is at least ranks[k], each row no earlier than its earliest day."""
    horizon = len(tables[0])
    best = None
    for days in itertools.product(range(horizon), repeat=len(tables)):
        if any(day < first for day, first in zip(days, earliest, strict=True)):
            continue
        if any(day < rank for day, rank in zip(sorted(days), ranks, strict=True)):
            continue
        total = sum(table[day] for table, day in zip(tables, days, strict=True))
        best = total if best is None else min(best, total)
    return best


@st.composite
def ranked_rows(draw: st.DrawFn):
    rows, horizon = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    tables = []
    for _ in range(rows):  # costs that never fall as the day grows
        steps = draw(st.lists(st.integers(0, 9), min_size=horizon, max_size=horizon))
        tables.append([sum(steps[: day + 1]) for day in range(horizon)])
    earliest = [draw(st.integers(0, horizon - 1)) for _ in range(rows)]
    ranks = sorted(draw(st.integers(0, horizon - 1)) for _ in range(rows))
    return tables, earliest, ranks


@settings(max_examples=80, deadline=None)
@given(ranked_rows())
def test_ranked_assignment_equals_the_cheapest_placement_that_keeps_the_ranks(drawn):
    tables, earliest, ranks = drawn
    costs = [table.__getitem__ for table in tables]
    assert ranked_assignment(costs, earliest, ranks) == brute_force_ranked(tables, earliest, ranks)


def test_a_travelling_childs_medical_exam_and_feedback_need_two_physician_trips():
    # Cognitive test and autism observation lie between them: 90 + 60 + 60 + 90 family
    # minutes do not fit in one 240-minute day, so one trip cannot hold both.
    team = [
        clinician(cid, profession)
        for cid, profession in [
            ("co-1", "coordinator"),
            ("bhv-1", "bhv_nurse"),
            ("md-1", "physician"),
            ("psy-1", "psychologist"),
            ("slp-1", "speech_therapist"),
            ("pt-1", "physiotherapist"),
            ("hab-1", "habilitation"),
        ]
    ]
    completed = {"intake": START - timedelta(days=20), "questionnaires": START - timedelta(days=6)}
    child = case(
        "c1", default_template(), municipality="Vindeln", team_travels=True, completed=completed
    )
    instance = build_instance([child], team, plan_settings(horizon_weeks=8))
    task = {t.key: t.index for t in instance.tasks}
    apart = DaysApart(instance, instance.tasks)
    assert apart.must_differ(task["medical_exam"], task["feedback_meeting"])
    assert not apart.must_differ(task["cognitive_test"], task["feedback_meeting"])
    assert apart.days([task["medical_exam"], task["feedback_meeting"]]) == 2
    greedy, _ = greedy_schedule(instance)
    bound = lower_bound(instance, greedy)
    assert bound.staff_km >= 2 * instance.trip_km("md-1", "Vindeln")
    assert bound.staff_km <= evaluate_parts(instance, greedy)["staff_km"]


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 5),
    pairs=st.sets(st.tuples(st.integers(0, 4), st.integers(0, 4))),
)
def test_days_apart_is_the_largest_group_that_pairwise_clashes(size, pairs):
    members = list(range(size))

    def must_differ(a, b):
        return (a, b) in pairs

    best = max(
        len(group)
        for count in range(1, size + 1)
        for group in itertools.combinations(members, count)
        if all(must_differ(a, b) or must_differ(b, a) for a, b in itertools.combinations(group, 2))
    )
    assert days_apart(members, must_differ) == best
