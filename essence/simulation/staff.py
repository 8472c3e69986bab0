"""Staff pools: one queue per team and profession, servers with working calendars.

This module sets the pools up as numpy tables (the event loop in essence.simulation.loop
works on them directly) and turns what the loop measured into figures: busy minutes and
time-average queue lengths in the scored window.
"""

from __future__ import annotations

import numpy as np

from essence.simulation.model import Model
from essence.simulation.staff_calendar import WorkClock, cumulative_minutes, staff_minutes
from essence.simulation.tables import Pools

FIRST_QUEUE_ROOM = 64  # jobs per pool queue before the first growth


class Staff:
    """All staff of one replication, grouped in pools (team x profession).

    Attributes:
        pools: The tables the event loop works on (see essence.simulation.tables.Pools).
        rate: Minutes per day beyond the calendar, or around the clock without one.
        available: Clinical minutes per pool in the scored window.
    """

    def __init__(
        self,
        model: Model,
        days: int,
        rng: np.random.Generator,
        window: tuple[float, float],
    ) -> None:
        professions = len(model.professions)
        self.professions = professions
        self.window = window
        calendar = model.scenario.calendar
        self.rate = calendar.continuous_minutes_per_day
        sizes = [n for team in model.pool_size for n in team]
        total = sum(sizes)
        pool_of = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
        idle = np.zeros((len(sizes), max(sizes)), dtype=np.int64)
        for pool, size in enumerate(sizes):
            idle[pool, :size] = np.flatnonzero(pool_of == pool)
        if calendar.enabled:
            caps = staff_minutes(model.scenario, days, total, rng)
            cums = cumulative_minutes(caps)
        else:
            caps = cums = np.zeros((total, 0))
        room = (len(sizes), FIRST_QUEUE_ROOM)
        self.pools = Pools(
            pool_of=pool_of,
            idle=idle,
            idle_count=np.asarray(sizes, dtype=np.int64),
            priority=np.zeros(room),
            seq=np.zeros(room, dtype=np.int64),
            job=np.zeros(room, dtype=np.int64),
            queue_len=np.zeros(len(sizes), dtype=np.int64),
            caps=caps,
            cums=cums,
            busy=np.zeros(len(sizes)),
            area=np.zeros(len(sizes)),
            last_change=np.zeros(len(sizes)),
        )
        lo, hi = window
        self.available = np.zeros(len(sizes))
        for server in range(total):
            clock = WorkClock(caps[server] if calendar.enabled else None, self.rate)
            self.available[pool_of[server]] += clock.minutes_between(lo, hi)

    def grow_queues(self) -> None:
        """Twice the room in every pool's queue (the loop asks when one is nearly full)."""
        p = self.pools
        width = p.priority.shape[1]

        def wider(table: np.ndarray) -> np.ndarray:
            out = np.zeros((table.shape[0], 2 * width), dtype=table.dtype)
            out[:, :width] = table
            return out

        self.pools = p._replace(priority=wider(p.priority), seq=wider(p.seq), job=wider(p.job))

    def account(self, pool: int, t: float) -> None:
        """Add the queue length of `pool` times the scored time since its last change."""
        p = self.pools
        lo, hi = self.window
        a = max(float(p.last_change[pool]), lo)
        b = t if t < hi else hi
        if b > a:
            p.area[pool] += p.queue_len[pool] * (b - a)
        p.last_change[pool] = t

    def utilisation(self, per_pool: bool = False) -> np.ndarray:
        """Busy share of available clinical minutes per profession (or per team and
        profession, flattened team-major) in the scored window."""
        busy, available = self.pools.busy, self.available
        if not per_pool:
            busy = busy.reshape(-1, self.professions).sum(axis=0)
            available = available.reshape(-1, self.professions).sum(axis=0)
        return np.divide(busy, available, out=np.zeros_like(busy), where=available > 0)

    def mean_queue_length(self, now: float) -> np.ndarray:
        """Time-average number of waiting steps per profession in the scored window."""
        for pool in range(self.pools.queue_len.shape[0]):
            self.account(pool, now)
        lo, hi = self.window
        span = max(min(now, hi) - lo, 1e-9)
        per_pool = self.pools.area / span
        return per_pool.reshape(-1, self.professions).sum(axis=0)
