"""Where the twin's time goes: wall seconds and calls per phase (set-up, plans, sweeps, …)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stopwatch:
    """Sums wall-clock seconds and calls per labelled phase."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    @contextmanager
    def __call__(self, label: str) -> Iterator[None]:
        """Time the body of a ``with watch("label"):`` block."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started
            self.calls[label] = self.calls.get(label, 0) + 1

    def rows(self) -> list[dict[str, float | int | str]]:
        """Phases by time spent, largest first (seconds rounded to milliseconds)."""
        return [
            {"phase": label, "seconds": round(seconds, 3), "calls": self.calls[label]}
            for label, seconds in sorted(self.seconds.items(), key=lambda kv: -kv[1])
        ]
