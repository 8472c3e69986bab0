"""The planner's digital twin page: start a twin run, follow its progress, see it beside the
simulator. The twin runs on its own scratch database in a background thread; results are
aggregates of invented children (groups under 5 suppressed) and kept for this process.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from essence.domain import messages
from essence.domain.errors import EssenceError, InvalidInput
from essence.services import auth
from essence.web import errors_i18n, i18n
from essence.web.deps import web_state
from essence.web.i18n import N_
from essence.web.pages import SignedIn, render
from essence.web.planner import PLANNER_ROLES, SETUPS

router = APIRouter(include_in_schema=False)
LIMITS: dict[str, tuple[float, float]] = {
    "children_per_year": (10, 300),
    "years": (0.25, 2),
    "replan_every_days": (1, 20),
    "seed": (0, 10**6),
}
DEFAULTS = {
    "children_per_year": "100",
    "years": "1",
    "replan_every_days": "5",
    "seed": "1",
    "setup": "central",
}
KEEP = 10


@dataclass
class TwinRun:
    """One twin run in the background: progress, then its report or an error."""

    id: str
    owner: str
    day: int = 0
    days: int = 1
    phase: str = N_("starting")
    report: Any = None
    error: str = ""

    @property
    def finished(self) -> bool:
        """True once the report or an error is there."""
        return self.report is not None or bool(self.error)


@dataclass
class TwinRuns:
    """The twin runs of this process (the last KEEP are kept); one runs at a time."""

    runs: dict[str, TwinRun] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, owner: str, scenario: Any, replan_every_days: int) -> TwinRun:
        """Start a twin in a thread; 429 while another twin is running."""
        with self.lock:
            if any(not r.finished for r in self.runs.values()):
                raise HTTPException(
                    429, i18n.gettext("A twin run is already busy; try again in a minute.")
                )
            run = TwinRun(secrets.token_hex(8), owner)
            self.runs[run.id] = run
            for old in list(self.runs)[:-KEEP]:
                del self.runs[old]
        threading.Thread(target=_work, args=(run, scenario, replan_every_days), daemon=True).start()
        return run

    def get(self, run_id: str, owner: str) -> TwinRun:
        """A run of `owner`; 404 for anyone else's."""
        run = self.runs.get(run_id)
        if run is None or run.owner != owner:
            raise HTTPException(404, i18n.gettext("Run %(id)s: not found.") % {"id": run_id})
        return run

    def latest(self, owner: str) -> TwinRun | None:
        """The owner's newest finished run with a report, if any."""
        done = [r for r in self.runs.values() if r.owner == owner and r.report is not None]
        return done[-1] if done else None


def _work(run: TwinRun, scenario: Any, replan_every_days: int) -> None:
    from essence import bootstrap
    from essence.domain.calendar import at_local
    from essence.services.demo import SimulatedClock
    from essence.services.twin import TwinOptions
    from essence.services.twin_study import run_twin_study

    def on_day(day: int, days: int, _date: object) -> None:
        run.day, run.days = day, days

    def on_phase(name: str) -> None:
        run.phase = {"twin": N_("the twin runs"), "simulator": N_("the simulator runs")}.get(
            name, name
        )

    clock = SimulatedClock(at_local(scenario.start_date, 7))
    try:
        with bootstrap.scratch_context(clock) as ctx:
            run.report = run_twin_study(
                ctx,
                clock,
                scenario,
                TwinOptions(replan_every_days=replan_every_days, budget_s=0.5),
                simulator_replications=5,
                on_day=on_day,
                on_phase=on_phase,
            )
    except EssenceError as error:
        run.error = errors_i18n.for_later(error)
    except Exception:
        run.error = N_("the twin run failed; nothing was saved")


def _runs(request: Request) -> TwinRuns:
    state = request.app.state
    if not hasattr(state, "twin_runs"):
        state.twin_runs = TwinRuns()
    return state.twin_runs


def _number(name: str, text: str) -> float:
    low, high = LIMITS[name]
    try:
        value = float(text.replace(",", ".")) if name == "years" else int(text)
    except ValueError:
        raise InvalidInput(name, text, messages.N_("give a number")) from None
    if not low <= value <= high:
        least, most = f"{low:g}", f"{high:g}"
        reason = messages.N_("must be %(low)s–%(high)s on this page", low=least, high=most)
        raise InvalidInput(name, value, reason)
    return value


def _authorise(request: Request, session: SignedIn) -> None:
    auth.authorise(web_state(request).context(session.user_id), "run the twin", *PLANNER_ROLES)


@router.get("/planner/twin", response_class=HTMLResponse)
def twin_page(request: Request, session: SignedIn) -> HTMLResponse:
    """The twin form and the newest kept result (planners and coordinators)."""
    _authorise(request, session)
    run = _runs(request).latest(session.user_id)
    return render(request, "twin.html", session, values=DEFAULTS, errors={}, setups=SETUPS, run=run)


@router.post("/planner/twin/runs", response_class=HTMLResponse)
def start_twin(
    request: Request,
    session: SignedIn,
    children_per_year: Annotated[str, Form(max_length=6)] = DEFAULTS["children_per_year"],
    years: Annotated[str, Form(max_length=5)] = DEFAULTS["years"],
    replan_every_days: Annotated[str, Form(max_length=3)] = DEFAULTS["replan_every_days"],
    seed: Annotated[str, Form(max_length=8)] = DEFAULTS["seed"],
    setup: Annotated[str, Form(max_length=20)] = DEFAULTS["setup"],
) -> Response:
    """Validate and start a twin run; htmx then polls its progress."""
    from essence.services.capacity import load_scenario

    _authorise(request, session)
    values = {
        "children_per_year": children_per_year,
        "years": years,
        "replan_every_days": replan_every_days,
        "seed": seed,
        "setup": setup,
    }
    try:
        if setup not in SETUPS:
            raise InvalidInput(
                "setup", setup, messages.N_("choose one of %(setups)s", setups=tuple(SETUPS))
            )
        numbers = {name: _number(name, values[name]) for name in LIMITS}
        scenario = load_scenario(
            team=setup,
            overrides={
                "children_per_year": numbers["children_per_year"],
                "years": numbers["years"],
                "seed": numbers["seed"],
                "warmup_days": 60,
            },
        )
    except InvalidInput as error:
        return render(
            request, "twin.html", session, 422,
            values=values, errors={error.field: errors_i18n.reason(error)}, setups=SETUPS,
            run=None,
        )  # fmt: skip
    run = _runs(request).start(session.user_id, scenario, int(numbers["replan_every_days"]))
    if request.headers.get("HX-Request"):
        return render(request, "_twin_run.html", session, run=run)
    return RedirectResponse(f"/planner/twin/runs/{run.id}", status_code=303)


@router.get("/planner/twin/runs/{run_id}", response_class=HTMLResponse)
def show_twin(
    request: Request,
    session: SignedIn,
    run_id: Annotated[str, Path(min_length=1, max_length=32)],
) -> HTMLResponse:
    """A twin run's progress, or the twin beside the simulator when finished."""
    _authorise(request, session)
    run = _runs(request).get(run_id, session.user_id)
    if request.headers.get("HX-Request"):
        return render(request, "_twin_run.html", session, run=run)
    return render(request, "twin.html", session, values=DEFAULTS, errors={}, setups=SETUPS, run=run)
