"""Live progress of a planning run (elapsed, best objective, bound, gap) and a stop request.

The CLI passes a callback that draws the live line and an event that Ctrl-C sets; CP-SAT
then stops and the planner returns the best plan found so far.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ortools.sat.python import cp_model


@dataclass(frozen=True)
class Progress:
    """One progress report.

    Attributes:
        elapsed_s: Seconds since planning started.
        stage: "greedy", "cpsat", "lns", "clock times", "polish" or "done".
        objective: Best objective so far (cost points), None before the first plan.
        bound: Best lower bound so far (the better of ours and CP-SAT's), or None.
    """

    elapsed_s: float
    stage: str
    objective: float | None
    bound: float | None

    @property
    def gap(self) -> float | None:
        """(objective - bound) / objective, None until both are known."""
        if self.objective is None or self.bound is None:
            return None
        return max(0.0, self.objective - self.bound) / max(1.0, abs(self.objective))


ProgressCallback = Callable[[Progress], None]


class Watch:
    """Collects the best objective and bound, reports them, and carries the stop request.

    Args:
        on_progress: Called with every improvement (from solver threads; keep it quick).
        stop: Set it (e.g. on Ctrl-C) to stop the search and keep the best plan so far.
    """

    def __init__(
        self, on_progress: ProgressCallback | None = None, stop: threading.Event | None = None
    ) -> None:
        self.on_progress = on_progress
        self.stop = stop or threading.Event()
        self.started = time.perf_counter()
        self.stage = "greedy"
        self.objective: float | None = None
        self.bound: float | None = None
        self._lock = threading.Lock()

    @property
    def stopped(self) -> bool:
        """True once a stop was requested."""
        return self.stop.is_set()

    def report(
        self, stage: str | None = None, objective: float | None = None, bound: float | None = None
    ) -> None:
        """Record a new stage, a better objective or a better bound, and report it. At
        stage "done" the plan's own objective and bound are kept as they are (clock times
        can cost points the day-level search did not see)."""
        with self._lock:
            if stage:
                self.stage = stage
            final = stage == "done"
            if objective is not None and (
                final or self.objective is None or objective < self.objective
            ):
                self.objective = objective
            if bound is not None and (final or self.bound is None or bound > self.bound):
                self.bound = bound
            progress = Progress(
                time.perf_counter() - self.started, self.stage, self.objective, self.bound
            )
        if self.on_progress is not None:
            self.on_progress(progress)

    @contextmanager
    def attached(self, solver: cp_model.CpSolver, report: bool = True) -> Iterator[_Callback]:
        """Report CP-SAT's solutions and bound while it solves, and stop it when asked.

        Args:
            solver: The solver about to run.
            report: False for sub-models (LNS rounds) whose objective is not the plan's.
        """
        callback = _Callback(self, report)
        if report:
            solver.best_bound_callback = lambda value: self.report(bound=value)
        done = threading.Event()

        def watch_stop() -> None:
            while not done.wait(0.1):
                if self.stopped:
                    solver.stop_search()
                    return

        thread = threading.Thread(target=watch_stop, daemon=True)
        thread.start()
        try:
            yield callback
        finally:
            done.set()
            thread.join(timeout=1.0)


class _Callback(cp_model.CpSolverSolutionCallback):
    """Reports every CP-SAT solution's objective to the watch."""

    def __init__(self, watch: Watch, report: bool) -> None:
        super().__init__()
        self.watch = watch
        self.report = report

    def on_solution_callback(self) -> None:
        if self.report:
            self.watch.report(objective=self.objective_value)
        if self.watch.stopped:
            self.stop_search()
