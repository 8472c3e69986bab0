"""Referrals: seasonal Poisson arrivals with municipality, gender and age band per child.

The rate dips towards mid-July by the scenario's seasonality and averages children_per_year;
municipalities are drawn in proportion to their population.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from essence.simulation.model import Model
from essence.simulation.streams import Streams

DAYS_PER_YEAR = 365.25
MID_JULY_DAY_OF_YEAR = 196


@dataclass(frozen=True)
class Referrals:
    """The children referred in one replication (index = case number, times ascending).

    Attributes:
        days: Referral time, days since simulation start.
        municipality: Index into Model.municipalities.
        boy: True for a boy.
        age_band: Index into the scenario's age bands.
    """

    days: np.ndarray
    municipality: np.ndarray
    boy: np.ndarray
    age_band: np.ndarray


def draw_referrals(model: Model, horizon_days: float, streams: Streams) -> Referrals:
    """Draw every referral in [0, horizon_days)."""
    scenario = model.scenario
    rate = scenario.children_per_year / DAYS_PER_YEAR
    amplitude = scenario.referrals.seasonality
    peak = rate * (1 + amplitude)
    times = _poisson_times(peak, horizon_days, streams.arrivals)
    if amplitude > 0 and times.size:
        offset = scenario.start_date.timetuple().tm_yday
        phase = 2 * math.pi * (times + offset - MID_JULY_DAY_OF_YEAR) / DAYS_PER_YEAR
        keep = streams.arrivals.random(times.size) * (1 + amplitude) < 1 - amplitude * np.cos(phase)
        times = times[keep]
    n = times.size
    weights = np.asarray(model.weights, dtype=float)
    bands = scenario.referrals.age_bands
    band_weights = np.asarray(list(bands.values()), dtype=float)
    rng = streams.attributes
    return Referrals(
        days=times,
        municipality=rng.choice(len(weights), n, p=weights / weights.sum()),
        boy=rng.random(n) < scenario.referrals.boys_share,
        age_band=rng.choice(len(band_weights), n, p=band_weights / band_weights.sum()),
    )


def _poisson_times(
    rate_per_day: float, horizon_days: float, rng: np.random.Generator
) -> np.ndarray:
    if rate_per_day <= 0 or horizon_days <= 0:
        return np.empty(0)
    count = rng.poisson(rate_per_day * horizon_days)
    return np.sort(rng.random(count) * horizon_days)
