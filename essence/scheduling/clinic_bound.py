"""A lower bound on the clinic objective that is strong for this model, reported by parts.

Each part bounds one term of the objective (`clinic_objective.evaluate`) for any plan that
places the same steps: lead time from each case's critical path, today, waiting lags and
the earliest day its professions have room, tightened by the capacity of each profession
over the horizon (the k-th feedback cannot come before the k-th workload is done when the
team works shortest-remaining-first, counting only minutes step lengths can fill); step
days the same way per profession, or, when better, the steps after each feedback meeting
at its ranked day together with the lead time, and the rest per profession; visit days
from the 4-hour cap, waiting lags and places of each family's steps
(`clinic_visit_bound`); staff km from the trips the minutes away need; the clinicians
already fixed for a child. The sum is a valid bound, so the gap against it tells how far
from optimal a plan can be, and the parts show where that gap sits. Steps left out add
their penalty (`not_scheduled_penalty`) to the bound exactly as to the reported objective,
so for a complete plan the bound is the bound of the plain objective.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache

from ortools.graph.python import linear_sum_assignment

from essence.scheduling.clinic_greedy import Assignment, DayLoad, task_order
from essence.scheduling.clinic_instance import Instance, Task
from essence.scheduling.clinic_objective import (
    lateness_cost,
    lead_offset_days,
    not_scheduled_penalty,
)
from essence.scheduling.clinic_visit_bound import chain_lags, min_visit_days

NONE = -(10**9)


@dataclass(frozen=True)
class BoundParts:
    """The bound's parts, in objective points (their sum is the bound).

    Attributes:
        lead: Feedback days and lateness beyond 90/140 days, summed over cases.
        step_days: The small per-step-day cost of the steps to place. With `lead` it
            may bound the sum of both terms only (what coupling the feedback day with the
            steps after it adds is counted here, beyond what bounds the lead alone).
        visit_days: Family visit days.
        staff_km: Km driven by staff.
        continuity: Extra clinicians per child and profession.
        not_scheduled: The penalty of the steps left out (`not_scheduled_penalty`): the
            same points the reported objective adds, so 0 for a complete plan.
    """

    lead: int
    step_days: int
    visit_days: int
    staff_km: int
    continuity: int
    not_scheduled: int = 0

    @property
    def total(self) -> int:
        """The bound: the sum of its parts."""
        return (
            self.lead
            + self.step_days
            + self.visit_days
            + self.staff_km
            + self.continuity
            + self.not_scheduled
        )

    def to_dict(self) -> dict[str, int]:
        """Plain data, with the total."""
        return {**asdict(self), "total": self.total}


def lower_bound(instance: Instance, assignment: Assignment) -> BoundParts:
    """A lower bound on the reported (penalised) objective of any plan placing exactly the
    tasks of `assignment` (fixed bookings where they are), by parts; with every task in
    `assignment` it bounds every complete plan."""
    placed = [t for t in instance.tasks if t.index in assignment]
    fixed = {t.index: assignment[t.index] for t in placed if t.fixed}
    load = DayLoad()
    for index, where in fixed.items():
        load.add(instance, instance.tasks[index], *where)
    earliest = earliest_days(instance, assignment, fixed, load)
    free = [t for t in placed if t.index not in fixed]
    lead, coupled, followers = _lead(instance, placed, fixed, earliest, load)
    step_day = instance.settings.weights.step_day
    step_days = step_day * _step_days(instance, free, earliest, load)
    rest = [t for t in free if t.index not in followers]
    # Lead and step days bound their sum together too (feedback day and the steps after it
    # in one ranked assignment): the better of the two ways, with `lead` kept as it is.
    step_days = max(
        step_days, coupled + step_day * _step_days(instance, rest, earliest, load) - lead
    )
    weights = instance.settings.weights
    return BoundParts(
        lead=lead,
        step_days=step_days,
        visit_days=weights.visit_day * _visit_days(instance, placed, fixed),
        staff_km=weights.staff_km * _staff_km(instance, free, placed, load),
        continuity=weights.continuity * _continuity(placed, load),
        not_scheduled=not_scheduled_penalty(instance, assignment),
    )


# --- earliest days ----------------------------------------------------------------------------


def earliest_days(
    instance: Instance, assignment: Assignment, fixed: Assignment, load: DayLoad
) -> dict[int, int]:
    """Earliest day of each placed task: release, prerequisites with lags, blocked family
    days, and the first day every profession slot has a clinician with room (capacity and
    working span left after the fixed bookings)."""
    earliest: dict[int, int] = {}
    for task in task_order(instance):
        if task.index not in assignment:
            continue
        if task.index in fixed:
            earliest[task.index] = fixed[task.index][0]
            continue
        day = task.release
        for pred, lag in task.preds:
            if pred in earliest:
                day = max(day, earliest[pred] + lag)
        earliest[task.index] = _first_day_with_room(instance, task, max(0, day), load)
    return earliest


def _first_day_with_room(instance: Instance, task: Task, day: int, load: DayLoad) -> int:
    for candidate in range(day, instance.horizon):
        if candidate in task.blocked_days:
            continue
        if all(
            any(_room(instance, task, c, candidate, load) for c in slot) for slot in task.candidates
        ):
            return candidate
    return day


def _room(instance: Instance, task: Task, clinician_id: str, day: int, load: DayLoad) -> bool:
    key = (clinician_id, day)
    minutes = instance.capacity[clinician_id][day] - load.minutes[key]
    span = instance.span[clinician_id][day] - load.slot[key] - load.travel_minutes[key]
    return minutes >= task.staff_minutes and span >= instance.slot_minutes(task)


# --- lead time ---------------------------------------------------------------------------------


def _lead(
    instance: Instance,
    placed: list[Task],
    fixed: Assignment,
    earliest: dict[int, int],
    load: DayLoad,
) -> tuple[int, int, set[int]]:
    """The lead bound, the bound of lead plus the step days of the free steps after each
    free feedback meeting (its followers, e.g. the network meeting), and those followers.

    Both are a least-cost assignment of the feedback meetings to the rank days
    (`_rank_days`): a case's cost at day f is its lateness cost, and for the second also
    each follower's step-day cost at the later of its earliest day and f plus the waiting
    days between them; both costs never fall as f grows (`ranked_assignment`).
    """
    total = 0
    feedback = []
    for task in placed:
        if not task.is_feedback:
            continue
        offset = lead_offset_days(instance, task.case_id)
        if task.index in fixed:
            total += lateness_cost(instance, fixed[task.index][0] + offset)
        else:
            feedback.append(task)
    if not feedback:
        return total, total, set()
    ranks = _rank_days(instance, feedback, placed, fixed, earliest, load)
    ordered = in_order(instance, placed)
    lags = {t.index: follower_lags(instance, t.index, ordered) for t in feedback}
    step_day = instance.settings.weights.step_day

    def lead_cost(task: Task) -> Callable[[int], int]:
        offset = lead_offset_days(instance, task.case_id)
        return lambda day: lateness_cost(instance, day + offset)

    def coupled_cost(task: Task) -> Callable[[int], int]:
        lead, after = lead_cost(task), lags[task.index]
        return lambda day: (
            lead(day) + step_day * sum(max(earliest[i], day + lag) for i, lag in after.items())
        )

    first = [earliest[t.index] for t in feedback]
    lead = ranked_assignment([lead_cost(t) for t in feedback], first, ranks)
    coupled = ranked_assignment([coupled_cost(t) for t in feedback], first, ranks)
    followers = {i for after in lags.values() for i in after}
    return total + lead, total + coupled, followers


def in_order(instance: Instance, placed: list[Task]) -> list[Task]:
    """The `placed` tasks with each after its prerequisites (`task_order`)."""
    wanted = {t.index for t in placed}
    return [t for t in task_order(instance) if t.index in wanted]


def follower_lags(
    instance: Instance, index: int, ordered: list[Task], free_only: bool = True
) -> dict[int, int]:
    """The (free) steps after task `index` through the placed steps `ordered` (`in_order`),
    each with the most waiting days between them (`chain_lags`)."""
    lags = chain_lags(ordered, index)
    return {i: lag for i, lag in lags.items() if not (free_only and instance.tasks[i].fixed)}


def ranked_assignment(
    costs: list[Callable[[int], int]], earliest: list[int], ranks: list[int]
) -> int:
    """A lower bound on the total cost of rows placed on days, each row on a day no
    earlier than its `earliest` day, when the k-th smallest of those days is at least
    `ranks[k]` (ranks sorted, as many as rows) and each row's cost never falls as its
    day grows.

    Argument: sort any such placement by day; the row in position k is on a day at least
    `max(earliest, ranks[k])`, where its cost is no higher, so giving each row its own
    rank (a least-cost assignment, Hungarian method) costs no more than the placement.
    """
    table = [
        [cost(max(first, rank)) for rank in ranks]
        for cost, first in zip(costs, earliest, strict=True)
    ]
    return _min_assignment(table)


def _rank_days(
    instance: Instance,
    feedback: list[Task],
    placed: list[Task],
    fixed: Assignment,
    earliest: dict[int, int],
    load: DayLoad,
) -> list[int]:
    """Day before which the k-th feedback cannot come, for k = 1..n (per profession: the
    k-th completion day when each case's workload of that profession, released on the
    earliest day of its first step needing it, is worked in shortest-remaining-first
    order; the largest over professions)."""
    ancestors = _ancestors_by_case(instance, feedback, placed, fixed)
    ranks = [0] * len(feedback)
    professions = {p for t in placed for p in t.step.professions}
    for profession in professions:
        jobs = []
        for task in feedback:
            minutes, release = 0, instance.horizon
            for member in ancestors[task.index]:
                count = sum(1 for p in member.step.professions if p == profession)
                if count:
                    minutes += count * member.staff_minutes
                    release = min(release, earliest[member.index])
            jobs.append((release, minutes))
        days = srpt_days(_profession_capacity(instance, profession, load), jobs)
        ranks = [max(a, b) for a, b in zip(ranks, days, strict=True)]
    return ranks


def _ancestors_by_case(
    instance: Instance, feedback: list[Task], placed: list[Task], fixed: Assignment
) -> dict[int, list[Task]]:
    """Free tasks that must be done by each feedback (its prerequisites, and itself)."""
    result: dict[int, list[Task]] = {}
    wanted = {t.index for t in placed if t.index not in fixed}
    for task in feedback:
        seen = {task.index}
        stack = [task.index]
        while stack:
            for pred, _ in instance.tasks[stack.pop()].preds:
                if pred in wanted and pred not in seen:
                    seen.add(pred)
                    stack.append(pred)
        result[task.index] = [instance.tasks[i] for i in sorted(seen)]
    return result


def srpt_days(capacity: list[int], jobs: list[tuple[int, int]]) -> list[int]:
    """Sorted completion days of jobs (release day, minutes) on one pooled resource with
    `capacity[day]` minutes a day, preemptive, shortest remaining work first; a job not
    done within the days gets `len(capacity)`, one of no minutes day 0.

    Argument: pooling the profession's minutes of a day into one machine and letting work
    split anywhere only relaxes the plan. On the machine's working-time axis (days laid end
    to end by their minutes) shortest-remaining-first leaves the fewest jobs unfinished at
    every instant (Schrage 1968; Smith 1978, Oper. Res. 26(1)), and a day is a monotone
    function of that axis; so in any plan the k-th job done is done no earlier than the
    k-th here.
    """
    horizon = len(capacity)
    days = [0 for _, minutes in jobs if minutes <= 0]
    pending = sorted((max(0, r), m) for r, m in jobs if m > 0)
    heap: list[int] = []
    position = 0
    for day in range(horizon):
        while position < len(pending) and pending[position][0] <= day:
            heapq.heappush(heap, pending[position][1])
            position += 1
        left = capacity[day]
        while heap and left > 0:
            remaining = heapq.heappop(heap)
            if remaining <= left:
                left -= remaining
                days.append(day)
            else:
                heapq.heappush(heap, remaining - left)
                left = 0
    days += [horizon] * (len(jobs) - len(days))
    return sorted(days)


def _profession_capacity(instance: Instance, profession: object, load: DayLoad) -> list[int]:
    """Minutes per day the profession can give the free steps: per clinician, the most
    that step lengths can add up to within its free minutes (three 90-minute steps do not
    fit in 240 minutes, so 180 can be used)."""
    team = [c.id for c in instance.clinicians.values() if c.profession == profession]
    lengths = tuple(
        sorted(
            {
                t.staff_minutes
                for t in instance.tasks
                if not t.fixed and profession in t.step.professions
            }
        )
    )
    return [
        sum(
            usable_minutes(max(0, instance.capacity[c][day] - load.minutes[(c, day)]), lengths)
            for c in team
        )
        for day in range(instance.horizon)
    ]


@lru_cache(maxsize=4096)
def usable_minutes(free: int, lengths: tuple[int, ...]) -> int:
    """The largest sum of step lengths (each used any number of times) at most `free`
    minutes: a clinician's steps on one day add up to no more (a valid capacity bound,
    since every step a clinician takes has one of these lengths)."""
    if not lengths:
        return 0
    reachable = [True] + [False] * free
    for total in range(1, free + 1):
        reachable[total] = any(n <= total and reachable[total - n] for n in lengths)
    return max(total for total in range(free + 1) if reachable[total])


def _min_assignment(costs: list[list[int]]) -> int:
    """The least total cost of giving each row its own column (Hungarian method)."""
    solver = linear_sum_assignment.SimpleLinearSumAssignment()
    for row, line in enumerate(costs):
        for column, cost in enumerate(line):
            solver.add_arc_with_cost(row, column, int(cost))
    if solver.solve() != solver.OPTIMAL:
        return sum(min(line) for line in costs)
    return int(solver.optimal_cost())


# --- step days ---------------------------------------------------------------------------------


def _step_days(
    instance: Instance, free: list[Task], earliest: dict[int, int], load: DayLoad
) -> int:
    """Sum of step days: the steps counted under one profession each cannot all be early
    when its minutes are short (`srpt_days` from their earliest days). Any way of giving
    each step one of its professions bounds the same sum; the better of two is used: the
    first profession, and the busiest (most minutes asked per minute it has)."""
    professions = {p for t in free for p in t.step.professions}
    capacity = {p: _profession_capacity(instance, p, load) for p in professions}
    asked: dict[object, int] = defaultdict(int)
    for task in free:
        for profession in task.step.professions:
            asked[profession] += task.staff_minutes
    busy = {p: asked[p] / max(1, sum(days)) for p, days in capacity.items()}
    first = {t.index: t.step.professions[0] for t in free}
    busiest = {
        t.index: max(t.step.professions, key=lambda one: (busy[one], one.value)) for t in free
    }
    best = 0
    for chosen in (first, busiest):
        groups: dict[object, list[Task]] = defaultdict(list)
        for task in free:
            groups[chosen[task.index]].append(task)
        total = sum(
            sum(srpt_days(capacity[p], [(earliest[t.index], t.staff_minutes) for t in tasks]))
            for p, tasks in groups.items()
        )
        best = max(best, total)
    return best


# --- visit days ------------------------------------------------------------------------------


def _visit_days(instance: Instance, placed: list[Task], fixed: Assignment) -> int:
    minutes: dict[str, int] = defaultdict(int)
    fixed_days: dict[str, set[int]] = defaultdict(set)
    for task in placed:
        if task.family_minutes:
            minutes[task.case_id] += task.family_minutes
            if task.index in fixed:
                fixed_days[task.case_id].add(fixed[task.index][0])
    chains = _family_chains(instance, placed)
    grouped = min_visit_days(instance, placed)
    total = 0
    for case_id, used in minutes.items():
        limit = max(1, instance.family_limit(case_id))
        total += max(
            math.ceil(used / limit),
            len(fixed_days[case_id]),
            chains.get(case_id, 0),
            grouped.get(case_id, 0),
        )
    return total


def _family_chains(instance: Instance, placed: list[Task]) -> dict[str, int]:
    """Per case, the most family steps on one chain that must be on different days
    (a positive waiting lag lies between them)."""
    wanted = {t.index for t in placed}
    same: dict[int, int] = {}
    later: dict[int, int] = {}
    best: dict[str, int] = defaultdict(int)
    for task in task_order(instance):
        if task.index not in wanted:
            continue
        same_in, later_in = 0, NONE
        for pred, lag in task.preds:
            if pred not in same:
                continue
            if lag > 0:
                later_in = max(later_in, same[pred], later[pred])
            else:
                same_in = max(same_in, same[pred])
                later_in = max(later_in, later[pred])
        if task.family_minutes:
            value = max(max(same_in, 1), later_in + 1)
            same[task.index], later[task.index] = value, NONE
            best[task.case_id] = max(best[task.case_id], value)
        else:
            same[task.index], later[task.index] = same_in, later_in
    return best


# --- staff km and continuity -------------------------------------------------------------------


def _staff_km(instance: Instance, free: list[Task], placed: list[Task], load: DayLoad) -> int:
    """Trips the free minutes away from base need beyond the fixed trips' spare room (or,
    when more, the days one child's steps there must be apart, `days_apart`, beyond the
    fixed trips there), each at the shortest round trip of its candidates; plus the fixed
    trips' km."""
    total = sum(instance.trip_km(c, m) for (c, _), m in load.trip.items())
    need: dict[tuple[str, int, object], list[Task]] = defaultdict(list)
    for task in free:
        for slot, candidates in enumerate(task.candidates):
            if task.destination and all(instance.needs_trip(task, c) for c in candidates):
                need[(task.destination, slot, task.step.professions[slot])].append(task)
    grouped: dict[tuple[str, object], list[Task]] = defaultdict(list)
    candidates_of: dict[tuple[str, object], set[str]] = defaultdict(set)
    for (destination, slot, profession), tasks in need.items():
        grouped[(destination, profession)] += tasks
        for task in tasks:
            candidates_of[(destination, profession)].update(task.candidates[slot])
    apart = DaysApart(instance, placed)
    for (destination, _), tasks in grouped.items():
        team = candidates_of[(destination, _)]
        fixed_trips = sum(1 for (c, _), m in load.trip.items() if m == destination and c in team)
        by_case: dict[str, set[int]] = defaultdict(set)
        for task in tasks:
            by_case[task.case_id].add(task.index)
        trips = max(
            _trips_needed(instance, destination, tasks, team, load),
            max(apart.days(sorted(members)) for members in by_case.values()) - fixed_trips,
        )
        total += trips * min(instance.trip_km(c, destination) for c in team)
    return total


class DaysApart:
    """Which steps of one child can never share a day (see `days_apart`)."""

    def __init__(self, instance: Instance, placed: list[Task]) -> None:
        self.instance = instance
        self.ordered = in_order(instance, placed)
        self.after: dict[int, dict[int, int]] = {}

    def _after(self, index: int) -> dict[int, int]:
        if index not in self.after:
            self.after[index] = chain_lags(self.ordered, index)
        return self.after[index]

    def must_differ(self, first: int, later: int) -> bool:
        """True when no plan puts `later` (after `first` by prerequisites) on `first`'s day:
        the waiting days between them add up to one or more, or the family steps they and
        every step between them hold would exceed the family's day (minutes or one place),
        since on a shared day all of those share it too."""
        lags = self._after(first)
        if later not in lags:
            return False
        if lags[later] > 0:
            return True
        between = [i for i in lags if i == later or later in self._after(i)]
        family = [self.instance.tasks[i] for i in [first, *between]]
        family = [t for t in family if t.family_minutes]
        case_id = self.instance.tasks[first].case_id
        minutes = sum(t.family_minutes for t in family)
        places = {t.destination for t in family if t.destination is not None}
        return minutes > self.instance.family_limit(case_id) or len(places) > 1

    def days(self, members: list[int]) -> int:
        """`days_apart` of one child's steps."""
        return days_apart(members, self.must_differ)


def days_apart(members: list[int], must_differ: Callable[[int, int], bool]) -> int:
    """The most of `members` (one child's steps, in pathway order) that pairwise can never
    share a day: so many days, and so many trips when they all need a trip of one
    profession to one place. A brute-force largest clique (a child has few such steps)."""
    clash = {
        (a, b)
        for a, b in itertools.combinations(members, 2)
        if must_differ(a, b) or must_differ(b, a)
    }
    for size in range(len(members), 1, -1):
        for group in itertools.combinations(members, size):
            if all(pair in clash for pair in itertools.combinations(group, 2)):
                return size
    return 1 if members else 0


def _trips_needed(
    instance: Instance, destination: str, tasks: list[Task], team: set[str], load: DayLoad
) -> int:
    minutes = sum(t.staff_minutes for t in tasks)
    slots = sum(instance.slot_minutes(t) for t in tasks)
    spare_minutes = spare_slots = 0
    for (clinician_id, day), where in load.trip.items():
        if where == destination and clinician_id in team:
            key = (clinician_id, day)
            spare_minutes += max(0, instance.capacity[clinician_id][day] - load.minutes[key])
            spare_slots += max(
                0, instance.span[clinician_id][day] - load.slot[key] - load.travel_minutes[key]
            )
    best_minutes = best_slots = 0
    for clinician_id in team:
        travel = instance.trip_block_minutes(clinician_id, destination)
        for day in range(instance.horizon):
            best_minutes = max(best_minutes, instance.capacity[clinician_id][day])
            best_slots = max(best_slots, instance.span[clinician_id][day] - travel)
    # A trip holds steps of these lengths only: their sums may fall short of the day.
    best_minutes = usable_minutes(
        max(0, best_minutes), tuple(sorted({t.staff_minutes for t in tasks}))
    )
    best_slots = usable_minutes(
        max(0, best_slots), tuple(sorted({instance.slot_minutes(t) for t in tasks}))
    )
    if best_minutes <= 0 or best_slots <= 0:
        return 0
    by_minutes = math.ceil(max(0, minutes - spare_minutes) / best_minutes)
    by_slots = math.ceil(max(0, slots - spare_slots) / best_slots)
    return max(by_minutes, by_slots)


def _continuity(placed: list[Task], load: DayLoad) -> int:
    """Clinicians already fixed for a child beyond the first, per profession; a step
    needing two of one profession needs two."""
    needed: dict[tuple[str, object], int] = defaultdict(int)
    for task in placed:
        for profession in set(task.step.professions):
            count = sum(1 for p in task.step.professions if p == profession)
            needed[(task.case_id, profession)] = max(needed[(task.case_id, profession)], count)
    total = 0
    for key, count in needed.items():
        total += max(count, len(load.used.get(key, []))) - 1
    return total
