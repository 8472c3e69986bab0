"""Staff pools: one queue per team and profession, servers with working calendars.

A waiting step goes to the free staff member who would finish it first; a member who becomes
free just before a long absence (vacation, sick spell) sleeps until back instead of holding
the next step. Busy minutes and time-average queue lengths are measured in the scored window.
"""

from __future__ import annotations

from heapq import heappop, heappush

import numpy as np

from essence.simulation.model import Model
from essence.simulation.staff_calendar import WorkClock, staff_minutes

DONE, WAKE = 1, 3  # event kinds: a staff member finished a step / is back from an absence
ABSENT_DAYS_BEFORE_SLEEP = 3.0


class Staff:
    """All staff of one replication, grouped in pools (team x profession)."""

    def __init__(
        self, model: Model, days: int, rng: np.random.Generator, window: tuple[float, float]
    ) -> None:
        professions = len(model.professions)
        self.professions = professions
        self.window = window
        calendar = model.scenario.calendar
        sizes = [n for team in model.pool_size for n in team]
        total = sum(sizes)
        minutes = staff_minutes(model.scenario, days, total, rng) if calendar.enabled else None
        self.clocks: list[WorkClock] = []
        self.pool_of: list[int] = []
        self.team_of: list[int] = []
        self.idle: list[list[int]] = [[] for _ in sizes]
        for pool, size in enumerate(sizes):
            for _ in range(size):
                server = len(self.clocks)
                row = None if minutes is None else minutes[server]
                self.clocks.append(WorkClock(row, calendar.continuous_minutes_per_day))
                self.pool_of.append(pool)
                self.team_of.append(pool // professions)
                self.idle[pool].append(server)
        self.calendar = calendar.enabled
        self.queues: list[list[tuple]] = [[] for _ in sizes]
        self.job: list[tuple | None] = [None] * total
        self.seq = 0
        self.busy = [0.0] * len(sizes)
        self.available = self._available_minutes(len(sizes))
        self.area = [0.0] * len(sizes)
        self.last_change = [0.0] * len(sizes)

    def _available_minutes(self, pools: int) -> list[float]:
        lo, hi = self.window
        available = [0.0] * pools
        for server, clock in enumerate(self.clocks):
            available[self.pool_of[server]] += clock.minutes_between(lo, hi)
        return available

    def submit(self, engine, job: tuple, profession: int, t: float) -> None:
        """Give `job` (priority, case, step, minutes, queued_day) to a free member or queue it."""
        pool = engine.team[job[1]] * self.professions + profession
        idle = self.idle[pool]
        if idle:
            if self.calendar and len(idle) > 1:
                best = min(idle, key=lambda s: self.clocks[s].finish_day(t, job[3]))
                idle.remove(best)
            else:
                best = idle.pop()
            self._start(engine, best, job, t)
            return
        self._account(pool, t)
        self.seq += 1
        heappush(self.queues[pool], (job[0], self.seq, job))

    def _start(self, engine, server: int, job: tuple, t: float, begin: float = -1.0) -> None:
        _, case, step_index, minutes, queued = job
        clock = self.clocks[server]
        if begin < 0:
            begin = clock.finish_day(t, 0.0) if self.calendar else t
        trips = engine.trips
        if trips.code[engine.muni[case]][engine.team[case]][step_index]:
            minutes += trips.on_start(engine, server, case, step_index, int(begin))
        engine.queue_wait[case] += begin - queued
        if self.window[0] <= begin < self.window[1]:
            self.busy[self.pool_of[server]] += minutes
        self.job[server] = (case, step_index)
        engine.schedule(clock.finish_day(t, minutes), DONE, server, 0)

    def finish(self, engine, server: int, t: float) -> tuple[int, int]:
        """Free `server` at `t`, start its next job (or let it idle/sleep); return its job."""
        done = self.job[server]
        self.job[server] = None
        begin = t
        if self.calendar:
            begin = self.clocks[server].finish_day(t, 0.0)
            if begin - t > ABSENT_DAYS_BEFORE_SLEEP:
                engine.schedule(begin, WAKE, server, 0)
                return done
        self.wake(engine, server, t, begin)
        return done

    def wake(self, engine, server: int, t: float, begin: float = -1.0) -> None:
        """A member back from an absence takes the next job or becomes free."""
        pool = self.pool_of[server]
        queue = self.queues[pool]
        if queue:
            self._account(pool, t)
            self._start(engine, server, heappop(queue)[2], t, begin)
        else:
            self.idle[pool].append(server)

    def _account(self, pool: int, t: float) -> None:
        lo, hi = self.window
        a = self.last_change[pool]
        if a < lo:
            a = lo
        b = t if t < hi else hi
        if b > a:
            self.area[pool] += len(self.queues[pool]) * (b - a)
        self.last_change[pool] = t

    def utilisation(self, per_pool: bool = False) -> np.ndarray:
        """Busy share of available clinical minutes per profession (or per team and
        profession, flattened team-major) in the scored window."""
        busy, available = np.asarray(self.busy), np.asarray(self.available)
        if not per_pool:
            busy = busy.reshape(-1, self.professions).sum(axis=0)
            available = available.reshape(-1, self.professions).sum(axis=0)
        return np.divide(busy, available, out=np.zeros_like(busy), where=available > 0)

    def mean_queue_length(self, now: float) -> np.ndarray:
        """Time-average number of waiting steps per profession in the scored window."""
        for pool in range(len(self.queues)):
            self._account(pool, now)
        lo, hi = self.window
        span = max(min(now, hi) - lo, 1e-9)
        per_pool = np.asarray(self.area) / span
        return per_pool.reshape(-1, self.professions).sum(axis=0)
