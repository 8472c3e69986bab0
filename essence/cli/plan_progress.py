"""The live line of `essence schedule plan` (elapsed, best objective, bound, gap) and Ctrl-C.

Ctrl-C during planning asks the planner to stop; it then books the best plan found so far.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.live import Live
from rich.text import Text

from essence.cli.render import error_console


def progress_text(
    elapsed_s: float, stage: str, objective: float | None, bound: float | None
) -> str:
    """One line: ``12.3 s  lns  best 157,856  bound 106,223  gap 32.7 %``."""
    best = f"{objective:,.0f}" if objective is not None else "—"
    low = f"{bound:,.0f}" if bound is not None else "—"
    gap = "—"
    if objective is not None and bound is not None:
        gap = f"{100 * max(0.0, objective - bound) / max(1.0, abs(objective)):.1f} %"
    return (
        f"{elapsed_s:5.1f} s  {stage:<11}  best {best}  bound {low}  gap {gap}  (Ctrl-C keeps it)"
    )


def _line(progress: object) -> str:
    return progress_text(
        progress.elapsed_s,  # type: ignore[attr-defined]
        progress.stage,  # type: ignore[attr-defined]
        progress.objective,  # type: ignore[attr-defined]
        progress.bound,  # type: ignore[attr-defined]
    )


@contextmanager
def live_progress(
    enabled: bool,
) -> Iterator[tuple[Callable[[object], None] | None, threading.Event]]:
    """Yield (progress callback, stop event): the callback redraws the live line on stderr
    (on a terminal; to a log or a pipe only the last figures go, as one line at the end);
    Ctrl-C sets the event instead of ending the program, so the best plan is kept."""
    stop = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def interrupted(_signum: int, _frame: object) -> None:
        stop.set()

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        signal.signal(signal.SIGINT, interrupted)
    try:
        if not enabled:
            yield None, stop
            return
        if not error_console.is_terminal:  # a log or a pipe: the last figures, one line
            latest: dict[str, object] = {}
            yield (lambda progress: latest.update(last=progress)), stop
            if latest:
                error_console.print(_line(latest["last"]), soft_wrap=True)
            return
        with Live(Text(""), console=error_console, refresh_per_second=4, transient=False) as live:
            yield (lambda progress: live.update(Text(_line(progress)))), stop
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
        if stop.is_set():
            error_console.print("stopped by Ctrl-C: the best plan found so far is kept")
