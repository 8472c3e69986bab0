"""Step durations in staff minutes: fixed, exponential, lognormal or empirical.

Drawn in vectorised batches (one numpy call per step and replication) to keep the event loop
free of per-event random-number calls.
"""

from __future__ import annotations

import math

import numpy as np

from essence.simulation.scenario import DurationSpec


def draw_minutes(
    spec: DurationSpec, template_minutes: float, size: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw `size` durations in minutes.

    Args:
        spec: The duration model; its mean defaults to `template_minutes`.
        template_minutes: The pathway's minutes for the step.
        size: How many to draw.
        rng: The replication's durations generator.

    Returns:
        Positive minutes with mean `spec.mean_minutes or template_minutes`
        (empirical: the sample mean of `spec.samples`).
    """
    mean = spec.mean_minutes or template_minutes
    if spec.kind == "fixed" or (spec.kind == "lognormal" and spec.cv == 0):
        return np.full(size, mean, dtype=float)
    if spec.kind == "exponential":
        return rng.exponential(mean, size)
    if spec.kind == "empirical":
        return rng.choice(np.asarray(spec.samples, dtype=float), size)
    sigma = math.sqrt(math.log1p(spec.cv**2))
    return rng.lognormal(math.log(mean) - sigma**2 / 2, sigma, size)
