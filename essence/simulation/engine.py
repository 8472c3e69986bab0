"""The discrete-event pathway engine: one replication of one policy on an event heap.

Children arrive (pre-drawn, merged with the heap), steps become ready when their prerequisites
are done (fork/join) or one after another (sequential policy), staffed steps queue per team and
profession, joint steps finish when every profession's part is done, waiting steps just wait.

`Engine` sets a replication up as flat lists (per child, per step, per child and step) and
reads the figures out afterwards; the event loop itself is essence.simulation.loop.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from essence.simulation.durations import draw_minutes
from essence.simulation.loop import run_events
from essence.simulation.model import Model
from essence.simulation.referrals import DAYS_PER_YEAR, draw_referrals
from essence.simulation.results import ReplicationResult
from essence.simulation.scenario import PolicySpec
from essence.simulation.staff import Staff
from essence.simulation.streams import Streams, replication_streams
from essence.simulation.trips import Trips


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
        self.events = 0
        self.now = 0.0
        self.finished = 0
        self.arrived = 0

    # --- set-up ---------------------------------------------------------------------------

    def _init_cases(self) -> None:
        days = self.referrals.days
        n = days.size
        self.arrival: list[float] = days.tolist()
        self.muni: list[int] = self.referrals.municipality.tolist()
        nearest = self.model.team_of_municipality
        self.team = [nearest[m] for m in self.muni]
        lo, hi = self.window
        self.cohort_mask = (days >= lo) & (days < hi)
        self.in_cohort: list[bool] = self.cohort_mask.tolist()
        self.cohort_pending = sum(self.in_cohort)
        self.feedback_day = [math.nan] * n
        self.done_steps = [0] * n
        self.position = [0] * n
        self.last_prof = [-1] * n  # id of the professions of the case's last staffed step
        self.visit_booked = [-1.0] * n
        self.queue_wait = [0.0] * n

    def _init_steps(self, streams: Streams) -> None:
        """Step tables (indexed by step), per-case-and-step lists and pre-drawn numbers."""
        steps = self.model.steps
        n = len(self.arrival)
        self.n_steps = len(steps)
        groups: dict[tuple[int, ...], int] = {}
        self.staffed = [bool(s.professions) for s in steps]
        self.wait_days = [s.wait_days for s in steps]
        self.prof_id = [groups.setdefault(s.professions, len(groups)) for s in steps]
        self.family = [s.family_facing for s in steps]
        self.bundled = [self.policy.bundle and s.bundle for s in steps]
        self.n_prof = [len(s.professions) for s in steps]
        self.successors = [s.successors for s in steps]
        professions = len(self.model.professions)
        self.pools = [
            [tuple(team * professions + p for p in s.professions) for s in steps]
            for team in range(len(self.model.bases))
        ]
        requires = [len(s.requires) for s in steps]
        self.roots = [i for i, count in enumerate(requires) if count == 0]
        self.missing = requires * n
        self.parts = [0] * (n * self.n_steps)
        self.no_show = [False] * (n * self.n_steps)
        self._durations = streams.durations
        self._drawn = [0] * self.n_steps
        self.draws: list[Iterator[float] | None] = [None] * self.n_steps
        for i, step in enumerate(steps):
            if step.professions:
                self._draw_minutes(i, n + 16)
        self._no_shows = streams.no_shows
        self._uniform_block = 4 * n + 16
        self.uniforms: Iterator[float] = iter(())  # drawn on first use (doubles: same numbers)

    def _draw_minutes(self, step_index: int, size: int) -> Iterator[float]:
        step = self.model.steps[step_index]
        block = draw_minutes(step.duration, step.minutes, size, self._durations).tolist()
        self._drawn[step_index] += size
        self.draws[step_index] = iterator = iter(block)
        return iterator

    def refill_minutes(self, step_index: int) -> Iterator[float]:
        """A new block of durations of a step (as many as drawn so far) from its stream."""
        return self._draw_minutes(step_index, self._drawn[step_index])

    def refill_uniforms(self) -> Iterator[float]:
        """A new block of no-show uniforms from their stream."""
        return iter(self._no_shows.random(self._uniform_block).tolist())

    # --- main loop ------------------------------------------------------------------------

    def run(self) -> None:
        """Process arrivals and events in time order until the cohort is complete."""
        run_events(self)

    # --- result ---------------------------------------------------------------------------

    def result(self) -> ReplicationResult:
        """The cohort's figures; children without feedback are censored at the end."""
        cohort = self.cohort_mask
        feedback = np.asarray(self.feedback_day)[cohort]
        arrival = self.referrals.days[cohort]
        completed = ~np.isnan(feedback)
        lead = np.where(completed, feedback, self.now) - arrival
        arrived = self.arrived
        # counted from the steps done, independently of the loop's `finished` tally
        in_system = arrived - self.done_steps[:arrived].count(self.n_steps)
        return ReplicationResult(
            policy=self.policy_name,
            replication=self.replication,
            lead_days=lead,
            completed=completed,
            municipality=self.referrals.municipality[cohort],
            boy=self.referrals.boy[cohort],
            age_band=self.referrals.age_band[cohort],
            visit_days=np.asarray(self.trips.visit_count)[cohort],
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
