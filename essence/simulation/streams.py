"""Random streams: one seeded numpy Generator per purpose and replication.

Replication r of root seed s uses SeedSequence(s, spawn_key=(r,)), so a chunk of replications
gives the same numbers whether it runs alone, in a process pool or on a Dask worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PURPOSES = ("arrivals", "attributes", "durations", "no_shows", "staff")


@dataclass(frozen=True)
class Streams:
    """The generators of one replication, one per purpose.

    Attributes:
        arrivals: Referral times (Poisson, thinned for seasonality).
        attributes: Municipality, gender and age band of each child.
        durations: Step durations.
        no_shows: Whether a family misses an appointment.
        staff: Vacation weeks and sick days of the staff.
    """

    arrivals: np.random.Generator
    attributes: np.random.Generator
    durations: np.random.Generator
    no_shows: np.random.Generator
    staff: np.random.Generator


def replication_streams(seed: int, replication: int) -> Streams:
    """Fresh generators for `replication` of root `seed` (same inputs, same numbers)."""
    root = np.random.SeedSequence(seed, spawn_key=(replication,))
    children = root.spawn(len(PURPOSES))
    generators = {
        name: np.random.default_rng(child) for name, child in zip(PURPOSES, children, strict=True)
    }
    return Streams(**generators)
