"""Staff working calendars: clinical minutes per day and the time a piece of work finishes.

A staff member's minutes per day come from the roster (capped), minus Swedish public holidays,
summer vacation and sick days. Work is fluid within a day: a 120-minute step on a 360-minute
day takes a third of it; `finish_day` inverts the cumulative minutes with a binary search
(plain code over numpy arrays: essence.simulation.loop compiles the same function).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from essence.domain.calendar import is_public_holiday
from essence.simulation.scenario import Scenario


@lru_cache(maxsize=16)
def _open_minutes(
    start: date, days: int, roster: tuple[int, ...], cap: int, holidays: bool
) -> np.ndarray:
    minutes = np.empty(days)
    for d in range(days):
        day = start + timedelta(days=d)
        open_day = not (holidays and is_public_holiday(day))
        minutes[d] = min(roster[day.weekday()], cap) if open_day else 0
    minutes.setflags(write=False)
    return minutes


def staff_minutes(
    scenario: Scenario, days: int, staff: int, rng: np.random.Generator
) -> np.ndarray:
    """Clinical minutes per day for each of `staff` members, shape (staff, days).

    Args:
        scenario: Gives roster, daily cap, holidays, vacation weeks and sick-leave rate.
        days: Length of the horizon, in days from scenario.start_date.
        staff: Number of staff members (rows).
        rng: The replication's staff generator (vacation start weeks, sick days).
    """
    spec = scenario.calendar
    base = _open_minutes(
        scenario.start_date, days, tuple(scenario.roster), scenario.daily_cap_minutes, spec.holidays
    )
    minutes = np.tile(base, (staff, 1))
    if spec.vacation_weeks and spec.vacation_start_weeks:
        _remove_vacations(minutes, scenario, rng)
    if spec.sick_leave_rate > 0:
        minutes[rng.random(minutes.shape) < spec.sick_leave_rate] = 0
    return minutes


def _remove_vacations(minutes: np.ndarray, scenario: Scenario, rng: np.random.Generator) -> None:
    start = scenario.start_date
    days = minutes.shape[1]
    last = start + timedelta(days=days)
    weeks = scenario.calendar.vacation_weeks
    choices = np.asarray(scenario.calendar.vacation_start_weeks)
    for year in range(start.year, last.year + 1):
        picks = rng.choice(choices, minutes.shape[0])
        for row, week in enumerate(picks):
            monday = date.fromisocalendar(year, int(week), 1)
            first = (monday - start).days
            lo, hi = max(first, 0), min(first + 7 * weeks, days)
            if lo < hi:
                minutes[row, lo:hi] = 0


def finish_day(
    cap: np.ndarray, cum: np.ndarray, rate: float, start_day: float, work_minutes: float
) -> float:
    """The day (float) at which `work_minutes` of work begun at `start_day` is done.

    Args:
        cap: Clinical minutes per day of one staff member (empty: no calendar).
        cum: Cumulative minutes, ``cum[d]`` = minutes before day d (len(cap) + 1 entries).
        rate: Minutes per day beyond the calendar (and around the clock without one).
        start_day: When the work begins, days since the simulation start.
        work_minutes: Minutes of work.
    """
    days = cap.shape[0]
    if not days:
        return start_day + work_minutes / rate
    d = int(start_day)
    if d >= days:
        return float(days) + work_minutes / rate
    minutes = cap[d]
    if minutes:
        left = (1.0 - (start_day - d)) * minutes
        if work_minutes <= left:
            return start_day + work_minutes / minutes
    target = cum[d] + (start_day - d) * minutes + work_minutes
    k = np.searchsorted(cum, target, side="right") - 1
    if k >= days:
        return float(days) + (target - cum[days]) / rate
    return k + (target - cum[k]) / cap[k]


def cumulative_minutes(minutes: np.ndarray) -> np.ndarray:
    """Minutes before each day along the last axis (one more entry than days, from 0)."""
    cum = np.zeros((*minutes.shape[:-1], minutes.shape[-1] + 1))
    np.cumsum(minutes, axis=-1, out=cum[..., 1:])
    return cum


class WorkClock:
    """When work started at a given day finishes for one staff member.

    Time is in days since the simulation start (floats); work is in minutes. With
    `minutes` None the member works `rate` minutes per day around the clock (no calendar).
    """

    __slots__ = ("cap", "cum", "days", "rate")

    def __init__(self, minutes: np.ndarray | None = None, rate: float = 1440.0) -> None:
        self.rate = rate
        if minutes is None:
            self.cap = np.zeros(0)
            self.cum = np.zeros(0)
        else:
            self.cap = np.asarray(minutes, dtype=float)
            self.cum = cumulative_minutes(self.cap)
        self.days = self.cap.shape[0]

    def finish_day(self, start_day: float, work_minutes: float) -> float:
        """The day (float) at which `work_minutes` of work begun at `start_day` is done."""
        return finish_day(self.cap, self.cum, self.rate, start_day, work_minutes)

    def minutes_between(self, first_day: float, last_day: float) -> float:
        """Clinical minutes available in [first_day, last_day)."""
        if not self.days:
            return (last_day - first_day) * self.rate
        return self._position(last_day) - self._position(first_day)

    def _position(self, day: float) -> float:
        d = min(int(day), self.days)
        if d >= self.days:
            return float(self.cum[-1])
        return float(self.cum[d] + (day - d) * self.cap[d])
