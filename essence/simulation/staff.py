"""Staff pools: one queue per team and profession, servers with working calendars.

This module sets the pools up as plain lists (the event loop in essence.simulation.loop works
on them directly) and turns what the loop measured into figures: busy minutes and
time-average queue lengths in the scored window.
"""

from __future__ import annotations

import numpy as np

from essence.simulation.model import Model
from essence.simulation.staff_calendar import WorkClock, staff_minutes


class Staff:
    """All staff of one replication, grouped in pools (team x profession).

    Attributes:
        pool_of: Pool of each server (staff member).
        idle: Per pool, the servers free to start work (in the order they became free).
        queues: Per pool, a heap of waiting jobs (priority, seq, case, step, key, minutes,
            queued day).
        caps: Per server, clinical minutes per day (empty lists without a calendar).
        cums: Per server, cumulative minutes before each day (len(cap) + 1 entries).
        rate: Minutes per day beyond the calendar, or around the clock without one.
        busy: Busy minutes per pool in the scored window (the loop adds to it).
        area: Queue length x days per pool in the scored window (the loop adds to it).
        last_change: Per pool, the day its queue length last changed.
        available: Clinical minutes per pool in the scored window.
    """

    def __init__(
        self, model: Model, days: int, rng: np.random.Generator, window: tuple[float, float]
    ) -> None:
        professions = len(model.professions)
        self.professions = professions
        self.window = window
        calendar = model.scenario.calendar
        self.calendar = calendar.enabled
        self.rate = calendar.continuous_minutes_per_day
        sizes = [n for team in model.pool_size for n in team]
        total = sum(sizes)
        minutes = staff_minutes(model.scenario, days, total, rng) if calendar.enabled else None
        self.pool_of: list[int] = [pool for pool, size in enumerate(sizes) for _ in range(size)]
        self.idle: list[list[int]] = [[] for _ in sizes]
        for server, pool in enumerate(self.pool_of):
            self.idle[pool].append(server)
        rows = list(minutes) if minutes is not None else [None] * total
        clocks = [WorkClock(row, self.rate) for row in rows]
        self.caps = [clock.cap for clock in clocks]
        self.cums = [clock.cum for clock in clocks]
        self.queues: list[list[tuple]] = [[] for _ in sizes]
        self.busy = [0.0] * len(sizes)
        self.area = [0.0] * len(sizes)
        self.last_change = [0.0] * len(sizes)
        lo, hi = window
        self.available = [0.0] * len(sizes)
        for server, clock in enumerate(clocks):
            self.available[self.pool_of[server]] += clock.minutes_between(lo, hi)

    def account(self, pool: int, t: float) -> None:
        """Add the queue length of `pool` times the scored time since its last change."""
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
            self.account(pool, now)
        lo, hi = self.window
        span = max(min(now, hi) - lo, 1e-9)
        per_pool = np.asarray(self.area) / span
        return per_pool.reshape(-1, self.professions).sum(axis=0)
