"""Jittered, bounded exponential backoff between retries of a transient failure.

"Full jitter": the n-th wait is uniform in [0, min(cap, base · 2ⁿ)] seconds, so writers that
clashed do not clash again in lock-step. Randomness comes from a numpy Generator that tests
may seed; numpy is imported only when a retry actually happens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Backoff:
    """Waits between attempts.

    Attributes:
        base_s: Upper bound of the first wait, in seconds.
        cap_s: Largest upper bound of any wait, in seconds.
        rng: A `numpy.random.Generator` (None: one seeded from the OS on first use).
        sleep: The sleeping function (tests pass a recorder).
    """

    base_s: float = 0.02
    cap_s: float = 1.0
    rng: Any = None
    sleep: Callable[[float], None] = field(default=time.sleep)

    def delay_s(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (0-based), in seconds."""
        if self.rng is None:
            import numpy as np

            self.rng = np.random.default_rng()
        bound = min(self.cap_s, self.base_s * (2**attempt))
        return float(self.rng.uniform(0.0, bound))

    def wait(self, attempt: int) -> float:
        """Sleep before the next attempt; returns the seconds slept."""
        seconds = self.delay_s(attempt)
        self.sleep(seconds)
        return seconds


DEFAULT_BACKOFF = Backoff()
