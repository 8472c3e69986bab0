"""The discrete-event pathway engine: one replication of one policy on an event heap.

Children arrive (pre-drawn, merged with the heap), steps become ready when their prerequisites
are done (fork/join) or one after another (sequential policy), staffed steps queue per team and
profession, joint steps finish when every profession's part is done, waiting steps just wait.

`Engine` sets a replication up as numpy tables (essence.simulation.tables: per child, per
step, per child and step, per pool), runs the compiled event loop (essence.simulation.loop),
refilling random numbers from their streams and growing queues when it asks, and reads the
figures out afterwards.
"""

from __future__ import annotations

import math

import numpy as np

from essence.simulation import tables as slot
from essence.simulation.durations import draw_minutes
from essence.simulation.heaps import EMPTY, grown_set
from essence.simulation.loop import FINISHED, GROW, advance
from essence.simulation.model import Model
from essence.simulation.referrals import DAYS_PER_YEAR, draw_referrals
from essence.simulation.results import ReplicationResult
from essence.simulation.scenario import PolicySpec
from essence.simulation.staff import Staff
from essence.simulation.streams import replication_streams
from essence.simulation.tables import Cases, Draws, Heap, Keys, Steps
from essence.simulation.trips import Trips

SPARE_DRAWS = 16  # durations drawn per step beyond one per child, at first


def run_replication(model: Model, policy_name: str, replication: int) -> ReplicationResult:
    """Simulate replication `replication` of policy `policy_name` (deterministic per seed).

    Every policy of a replication sees the same referrals and staff calendars (common
    random numbers), so policy differences are not sampling noise.
    """
    engine = Engine(model, policy_name, replication)
    engine.run()
    return engine.result()


class Engine:
    """State of one replication; `run` processes events until the cohort is complete.

    After `run`: ``events`` (arrivals and heap events processed), ``now`` (day the run
    stopped), ``arrived`` (children referred until then) and ``finished`` (children who
    completed every step).
    """

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
        days = math.ceil(self.horizon) + 1
        self.staff = Staff(model, days, streams.staff, self.window)
        self.trips = Trips(model, self.referrals.days.size)
        self.n_steps = len(model.steps)
        self.cases = self._cases()
        self.steps = self._steps()
        self.keys = self._keys()
        self._durations = streams.durations
        self._no_shows = streams.no_shows
        self.draws = self._first_draws()
        self.heap = self._heap()
        self.ints, self.floats, self.state = self._parameters(days)
        self.seen = self._seen()
        self.events = 0
        self.now = 0.0
        self.finished = 0
        self.arrived = 0

    # --- set-up ---------------------------------------------------------------------------

    def _cases(self) -> Cases:
        days = self.referrals.days
        n = days.size
        first, end = np.searchsorted(days, self.window).tolist()  # days ascend
        self.cohort = slice(first, end)
        in_cohort = np.zeros(n, dtype=bool)
        in_cohort[self.cohort] = True
        nearest = np.asarray(self.model.team_of_municipality, dtype=np.int64)
        return Cases(
            arrival=np.append(days, math.inf),
            muni=self.referrals.municipality.astype(np.int64),
            team=nearest[self.referrals.municipality],
            in_cohort=in_cohort,
            feedback_day=np.full(n, math.nan),
            done_steps=np.zeros(n, dtype=np.int64),
            position=np.zeros(n, dtype=np.int64),
            last_prof=np.full(n, -1, dtype=np.int64),
            visit_booked=np.full(n, -1.0),
            queue_wait=np.zeros(n),
        )

    def _steps(self) -> Steps:
        """Step tables (indexed by step) and the pools of each team and step."""
        steps = self.model.steps
        policy = self.policy
        groups: dict[tuple[int, ...], int] = {}
        professions = len(self.model.professions)
        pools = [
            team * professions + p for team in range(len(self.model.bases))
            for s in steps for p in s.professions
        ]  # fmt: skip
        per_team_step = [len(s.professions) for _ in self.model.bases for s in steps]
        return Steps(
            staffed=np.asarray([bool(s.professions) for s in steps]),
            wait_days=np.asarray([s.wait_days for s in steps], dtype=float),
            prof_id=np.asarray(
                [groups.setdefault(s.professions, len(groups)) for s in steps], dtype=np.int64
            ),
            family=np.asarray([s.family_facing for s in steps]),
            bundled=np.asarray([policy.bundle and s.bundle for s in steps]),
            n_prof=np.asarray([len(s.professions) for s in steps], dtype=np.int64),
            successor_start=_starts([len(s.successors) for s in steps]),
            successor=np.asarray([x for s in steps for x in s.successors], dtype=np.int64),
            roots=np.asarray([s.index for s in steps if not s.requires], dtype=np.int64),
            order=np.asarray(self.model.order, dtype=np.int64),
            direct=np.asarray(
                [
                    bool(s.professions) and not s.family_facing and not policy.handoff_days
                    for s in steps
                ]
            ),
            pool_start=_starts(per_team_step),
            pool=np.asarray(pools, dtype=np.int64),
        )

    def _keys(self) -> Keys:
        n = self.cases.muni.size * self.n_steps
        requires = np.asarray([len(s.requires) for s in self.model.steps], dtype=np.int64)
        return Keys(
            missing=np.tile(requires, self.cases.muni.size),
            parts=np.zeros(n, dtype=np.int64),
            no_show=np.zeros(n, dtype=bool),
            minutes=np.zeros(n),
            queued=np.zeros(n),
        )

    def _first_draws(self) -> Draws:
        """A block of durations per staffed step (one per child and some spare); no-show
        uniforms are drawn at the first refill (before the first event when any step is
        family-facing)."""
        n = self.cases.muni.size
        staffed = [s for s in self.model.steps if s.professions]
        self._drawn = np.zeros(self.n_steps, dtype=np.int64)
        minutes = np.zeros((self.n_steps, n + SPARE_DRAWS))
        for step in staffed:
            minutes[step.index] = self._draw(step.index, n + SPARE_DRAWS)
        length = np.zeros(self.n_steps, dtype=np.int64)
        length[[s.index for s in staffed]] = n + SPARE_DRAWS
        self._uniform_block = 4 * n + 16
        return Draws(
            minutes=minutes,
            position=np.zeros(self.n_steps, dtype=np.int64),
            length=length,
            uniforms=np.zeros(0),
        )

    def _draw(self, step_index: int, size: int) -> np.ndarray:
        step = self.model.steps[step_index]
        self._drawn[step_index] += size
        return draw_minutes(step.duration, step.minutes, size, self._durations)

    def _heap(self) -> Heap:
        """Room for every pending event: at most one per child and step waiting or being
        released, and per server one job done or one wake-up."""
        room = self.cases.muni.size * self.n_steps + 2 * self.staff.pools.pool_of.size + 8
        return Heap(day=np.zeros(room), rows=np.zeros((room, 4), dtype=np.int64))

    def _parameters(self, days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scenario = self.model.scenario
        policy = self.policy
        ints = np.zeros(slot.INT_SLOTS, dtype=np.int64)
        ints[slot.PARALLEL] = policy.parallel
        ints[slot.BY_REFERRAL] = policy.queue_order == "referral"
        ints[slot.CALENDAR] = scenario.calendar.enabled
        ints[slot.N_STEPS] = self.n_steps
        ints[slot.FEEDBACK] = self.model.feedback
        ints[slot.DAY_CODES] = days + 2
        ints[slot.N_CASES] = self.cases.muni.size
        ints[slot.N_SERVERS] = self.staff.pools.pool_of.size
        floats = np.zeros(slot.FLOAT_SLOTS)
        floats[slot.HANDOFF] = policy.handoff_days
        floats[slot.BOOKING] = policy.booking_days
        floats[slot.REBOOK] = scenario.rebook_days
        floats[slot.RATE] = self.staff.rate
        floats[slot.LO], floats[slot.HI] = self.window
        floats[slot.HORIZON] = self.horizon
        state = np.zeros(slot.STATE_SLOTS, dtype=np.int64)
        state[slot.PENDING] = self.cohort.stop - self.cohort.start
        state[slot.NEED] = bool(self.steps.family.any())  # draw the uniforms first
        return ints, floats, state

    def _seen(self) -> np.ndarray:
        """The hash set of visits and staff trips, with room for the most one event adds."""
        per_event = 2 * self.n_steps * (self.ints[slot.N_SERVERS] + 1)
        expected = self.keys.parts.size if self.trips.any_travel else 0
        size = 1 << max(4, int(2 * per_event + 4 * expected).bit_length())
        return np.full(size, EMPTY, dtype=np.int64)

    # --- main loop ------------------------------------------------------------------------

    def run(self) -> None:
        """Process arrivals and events in time order until the cohort is complete."""
        while True:
            trips = self.trips
            status = advance(
                self.cases, self.steps, self.keys, self.staff.pools,
                _travel(trips, self.seen), self.draws, self.heap,
                self.ints, self.floats, self.state,
            )  # fmt: skip
            if status == FINISHED:
                break
            if status == GROW:
                self._grow()
            else:
                self._refill()
        state = self.state
        self.events = int(state[slot.EVENTS])
        self.now = float(self.floats[slot.NOW])
        self.arrived = int(state[slot.ARRIVED])
        self.finished = int(state[slot.DONE_CASES])

    def _refill(self) -> None:
        """New durations for steps whose block is used up (as many as drawn so far, in step
        order), and new no-show uniforms when fewer than one per step are left."""
        draws = self.draws
        empty = np.flatnonzero((draws.position >= draws.length) & (draws.length > 0))
        if empty.size:
            width = max(draws.minutes.shape[1], int(self._drawn[empty].max()))
            minutes = draws.minutes
            if width > minutes.shape[1]:
                minutes = np.zeros((self.n_steps, width))
                minutes[:, : draws.minutes.shape[1]] = draws.minutes
            for s in empty.tolist():
                block = self._draw(s, int(self._drawn[s]))
                minutes[s, : block.size] = block
                draws.length[s] = block.size
                draws.position[s] = 0
            draws = draws._replace(minutes=minutes)
        used = int(self.state[slot.UNIFORM])
        if self.steps.family.any() and draws.uniforms.size - used < self.n_steps:
            fresh = self._no_shows.random(self._uniform_block)
            draws = draws._replace(uniforms=np.concatenate((draws.uniforms[used:], fresh)))
            self.state[slot.UNIFORM] = 0
        self.draws = draws
        self.state[slot.NEED] = 0

    def _grow(self) -> None:
        """More room in the pool queues or in the set of visits and trips."""
        queue_room = self.staff.pools.priority.shape[1] - self.n_steps
        if self.state[slot.QUEUE_MAX] > queue_room:
            self.staff.grow_queues()
        else:
            self.seen = grown_set(self.seen)

    # --- result ---------------------------------------------------------------------------

    def result(self) -> ReplicationResult:
        """The cohort's figures; children without feedback are censored at the end."""
        cohort = self.cohort  # children referred in the scored window (a slice: days ascend)
        feedback = self.cases.feedback_day[cohort]
        arrival = self.referrals.days[cohort]
        completed = ~np.isnan(feedback)
        lead = np.where(completed, feedback, self.now) - arrival
        arrived = self.arrived
        # counted from the steps done, independently of the loop's `finished` tally
        in_system = arrived - int(np.count_nonzero(self.cases.done_steps[:arrived] == self.n_steps))
        return ReplicationResult(
            policy=self.policy_name,
            replication=self.replication,
            lead_days=lead,
            completed=completed,
            municipality=self.referrals.municipality[cohort].copy(),
            boy=self.referrals.boy[cohort].copy(),
            age_band=self.referrals.age_band[cohort].copy(),
            visit_days=self.trips.visit_count[cohort].copy(),
            family_km=self.trips.family_km[cohort].copy(),
            staff_km=self.trips.staff_km[cohort].copy(),
            queue_wait_days=self.cases.queue_wait[cohort].copy(),
            utilisation=self.staff.utilisation(),
            pool_utilisation=self.staff.utilisation(per_pool=True),
            queue_length=self.staff.mean_queue_length(self.now),
            arrived=arrived,
            finished=self.finished,
            in_system=in_system,
            events=self.events,
            end_day=self.now,
        )


def _starts(counts: list[int]) -> np.ndarray:
    """CSR offsets: entry i's items are at [starts[i], starts[i + 1])."""
    return np.concatenate(([0], np.cumsum(counts, dtype=np.int64))).astype(np.int64)


def _travel(trips: Trips, seen: np.ndarray) -> slot.Travel:
    return slot.Travel(
        code=trips.code,
        no_show=trips.no_show,
        staff_minutes=trips.staff_minutes,
        round_trip_km=trips.round_trip_km,
        family_km=trips.family_km,
        staff_km=trips.staff_km,
        visit_count=trips.visit_count,
        seen=seen,
    )
