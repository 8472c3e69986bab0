"""The discrete-event pathway engine: one replication of one policy on an event heap.

Children arrive (pre-drawn, merged with the heap), steps become ready when their prerequisites
are done (fork/join) or one after another (sequential policy), staffed steps queue per team and
profession, joint steps finish when every profession's part is done, waiting steps just wait.
"""

from __future__ import annotations

import math
from heapq import heappop, heappush

import numpy as np

from essence.simulation.durations import draw_minutes
from essence.simulation.model import Model, Step
from essence.simulation.referrals import DAYS_PER_YEAR, draw_referrals
from essence.simulation.results import ReplicationResult
from essence.simulation.scenario import PolicySpec
from essence.simulation.staff import DONE, WAKE, Staff
from essence.simulation.streams import Streams, replication_streams
from essence.simulation.trips import Trips

RELEASE, WAITED = 0, 2  # event kinds besides the staff's DONE (1) and WAKE (3)


def run_replication(model: Model, policy_name: str, replication: int) -> ReplicationResult:
    """Simulate replication `replication` of policy `policy_name` (deterministic per seed).

    Every policy of a replication sees the same referrals and staff calendars (common
    random numbers), so policy differences are not sampling noise.
    """
    engine = Engine(model, policy_name, replication)
    engine.run()
    return engine.result()


class Engine:
    """State of one replication; `run` processes events until the cohort is complete."""

    def __init__(self, model: Model, policy_name: str, replication: int) -> None:
        scenario = model.scenario
        self.model = model
        self.policy_name = policy_name
        self.replication = replication
        self.policy: PolicySpec = scenario.policies[policy_name]
        streams = replication_streams(scenario.seed, replication)
        self.window = (scenario.warmup_days, scenario.warmup_days + scenario.years * DAYS_PER_YEAR)
        self.horizon = self.window[1] + scenario.max_cooldown_days
        self.referrals = draw_referrals(model, self.horizon, streams)
        self.staff = Staff(model, math.ceil(self.horizon) + 1, streams.staff, self.window)
        self.trips = Trips(model, self.referrals.days.size)
        self.calendar = scenario.calendar.enabled
        self._init_cases()
        self._init_steps(streams)
        self.heap: list[tuple] = []
        self.seq = 0
        self.events = 0
        self.now = 0.0

    # --- set-up ---------------------------------------------------------------------------

    def _init_cases(self) -> None:
        days = self.referrals.days
        n = days.size
        self.arrival = days.tolist()
        self.muni = self.referrals.municipality.tolist()
        self.team = [self.model.team_of_municipality[m] for m in self.muni]
        lo, hi = self.window
        self.in_cohort = ((days >= lo) & (days < hi)).tolist()
        self.cohort_pending = sum(self.in_cohort)
        self.feedback_day = [math.nan] * n
        self.done_steps = [0] * n
        self.position = [0] * n
        self.last_professions: list[tuple[int, ...] | None] = [None] * n
        self.visit_booked = [-1.0] * n
        self.queue_wait = [0.0] * n
        self.finished = 0
        self.arrived = 0

    def _init_steps(self, streams: Streams) -> None:
        steps = self.model.steps
        n = len(self.arrival)
        self.n_steps = len(steps)
        self.requires_count = [len(s.requires) for s in steps]
        self.missing = [0] * (n * self.n_steps)
        self.parts = [0] * (n * self.n_steps)
        self.no_show = [False] * (n * self.n_steps)
        self.minutes = [_Draws(s, n, streams.durations) if s.professions else None for s in steps]
        self.no_show_u = _Uniforms(streams.no_shows, 4 * n + 16)

    # --- main loop ------------------------------------------------------------------------

    def run(self) -> None:
        """Process arrivals and events in time order until the cohort is complete."""
        arrivals = self.arrival
        heap = self.heap
        n_arrivals = len(arrivals)
        horizon = self.horizon
        cohort_end = self.window[1]
        i = 0
        while True:
            next_arrival = arrivals[i] if i < n_arrivals else math.inf
            if heap and heap[0][0] <= next_arrival:
                t, _, kind, a, b = heappop(heap)
                if t > horizon:
                    break
                self.now = t
                self.events += 1
                if kind == DONE:
                    self._on_done(a, t)
                elif kind == RELEASE:
                    self._release(a, b, t)
                elif kind == WAITED:
                    self._step_done(a, b, t)
                elif kind == WAKE:
                    self._on_wake(a, t)
            else:
                if next_arrival > horizon:
                    break
                self.now = next_arrival
                self.events += 1
                self._on_arrival(i, next_arrival)
                i += 1
            if self.cohort_pending == 0 and self.now >= cohort_end:
                break
        self.arrived = i

    def schedule(self, t: float, kind: int, a: int, b: int) -> None:
        """Put an event of `kind` at day `t` on the heap (ties keep insertion order)."""
        self.seq += 1
        heappush(self.heap, (t, self.seq, kind, a, b))

    # --- children and steps ---------------------------------------------------------------

    def _on_arrival(self, case: int, t: float) -> None:
        base = case * self.n_steps
        if self.policy.parallel:
            for s, count in enumerate(self.requires_count):
                self.missing[base + s] = count
            for s, count in enumerate(self.requires_count):
                if count == 0:
                    self._ready(case, s, t)
        else:
            self._ready(case, self.model.order[0], t)

    def _ready(self, case: int, step_index: int, t: float) -> None:
        step = self.model.steps[step_index]
        if not step.professions:
            self.schedule(t + step.wait_days, WAITED, case, step_index)
            return
        policy = self.policy
        release = t
        if policy.handoff_days and self.last_professions[case] not in (None, step.professions):
            release += policy.handoff_days
        self.last_professions[case] = step.professions
        if step.family_facing:
            release += policy.booking_days
            if policy.bundle and step.bundle:
                release = self._visit_day(case, t, release)
        if release > t:
            self.schedule(release, RELEASE, case, step_index)
        else:
            self._release(case, step_index, t)

    def _visit_day(self, case: int, ready: float, release: float) -> float:
        """Join the family's booked visit day if it is still ahead, else book a new one."""
        booked = self.visit_booked[case]
        if booked >= ready:
            return booked
        day = float(math.ceil(release)) if self.calendar else release
        self.visit_booked[case] = day
        return day

    def _release(self, case: int, step_index: int, t: float) -> None:
        """Put one attempt of a staffed step into the queues of its professions."""
        step = self.model.steps[step_index]
        key = case * self.n_steps + step_index
        minutes = self.minutes[step_index].next()
        self.parts[key] = len(step.professions)
        self.no_show[key] = step.family_facing and self.no_show_u.next() < self.trips.no_show_p(
            self.muni[case], self.team[case], step
        )
        priority = self.arrival[case] if self.policy.queue_order == "referral" else t
        for profession in step.professions:
            self.staff.submit(self, (priority, case, step_index, minutes, t), profession, t)

    def _on_done(self, server: int, t: float) -> None:
        case, step_index = self.staff.finish(self, server, t)
        key = case * self.n_steps + step_index
        self.parts[key] -= 1
        if self.parts[key]:
            return
        if self.no_show[key]:
            self.schedule(t + self.model.scenario.rebook_days, RELEASE, case, step_index)
        else:
            self._step_done(case, step_index, t)

    def _on_wake(self, server: int, t: float) -> None:
        self.staff.wake(self, server, t)

    def _step_done(self, case: int, step_index: int, t: float) -> None:
        self.done_steps[case] += 1
        if step_index == self.model.feedback:
            self.feedback_day[case] = t
            if self.in_cohort[case]:
                self.cohort_pending -= 1
        if self.done_steps[case] == self.n_steps:
            self.finished += 1
        if self.policy.parallel:
            base = case * self.n_steps
            for successor in self.model.steps[step_index].successors:
                self.missing[base + successor] -= 1
                if self.missing[base + successor] == 0:
                    self._ready(case, successor, t)
        else:
            self.position[case] += 1
            if self.position[case] < self.n_steps:
                self._ready(case, self.model.order[self.position[case]], t)

    # --- result ---------------------------------------------------------------------------

    def result(self) -> ReplicationResult:
        """The cohort's figures; children without feedback are censored at the end."""
        cohort = np.asarray(self.in_cohort, dtype=bool)
        feedback = np.asarray(self.feedback_day)[cohort]
        arrival = np.asarray(self.arrival)[cohort]
        completed = ~np.isnan(feedback)
        lead = np.where(completed, feedback, self.now) - arrival
        arrived = self.arrived
        in_system = sum(1 for c in range(arrived) if self.done_steps[c] < self.n_steps)
        return ReplicationResult(
            policy=self.policy_name,
            replication=self.replication,
            lead_days=lead,
            completed=completed,
            municipality=self.referrals.municipality[cohort],
            boy=self.referrals.boy[cohort],
            age_band=self.referrals.age_band[cohort],
            visit_days=np.asarray(self.trips.visit_days())[cohort],
            family_km=np.asarray(self.trips.family_km)[cohort],
            staff_km=np.asarray(self.trips.staff_km)[cohort],
            queue_wait_days=np.asarray(self.queue_wait)[cohort],
            utilisation=self.staff.utilisation(),
            pool_utilisation=self.staff.utilisation(per_pool=True),
            queue_length=self.staff.mean_queue_length(self.now),
            arrived=arrived,
            finished=self.finished,
            in_system=in_system,
            events=self.events,
            end_day=self.now,
        )


class _Draws:
    """Pre-drawn durations of one step (minutes), refilled when re-bookings use them up."""

    __slots__ = ("i", "rng", "step", "values")

    def __init__(self, step: Step, size: int, rng: np.random.Generator) -> None:
        self.step, self.rng, self.i = step, rng, 0
        self.values = draw_minutes(step.duration, step.minutes, size + 16, rng).tolist()

    def next(self) -> float:
        if self.i == len(self.values):
            step = self.step
            more = draw_minutes(step.duration, step.minutes, len(self.values), self.rng).tolist()
            self.values.extend(more)
        self.i += 1
        return self.values[self.i - 1]


class _Uniforms:
    """Pre-drawn uniforms (no-shows), refilled in batches."""

    __slots__ = ("i", "rng", "size", "values")

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self.rng, self.size, self.i = rng, size, 0
        self.values = rng.random(size).tolist()

    def next(self) -> float:
        if self.i == len(self.values):
            self.values.extend(self.rng.random(self.size).tolist())
        self.i += 1
        return self.values[self.i - 1]
