"""The planner page: run a capacity scenario in the background, poll its progress, show results.

Results are aggregates of simulated children only (groups under 5 suppressed by the
simulator); a run is bounded in size and at most a few run at once.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from essence.domain.access import Role
from essence.domain.errors import EssenceError, InvalidInput
from essence.services import auth, capacity
from essence.services.capacity import SimulationReport
from essence.web.deps import web_state
from essence.web.pages import SignedIn, render

router = APIRouter(include_in_schema=False)
SETUPS = ("central", "satellites", "ambulating", "travelling")
MAX_RUNNING = 2
LIMITS = {"children_per_year": (20, 1000), "years": (1, 5), "replications": (2, 20)}
PLANNER_ROLES = (Role.PLANNER, Role.COORDINATOR)


@dataclass
class Run:
    """One capacity run: who started it, how far it got, and its report or error."""

    id: str
    owner: str
    done: int = 0
    total: int = 1
    report: SimulationReport | None = None
    error: str = ""

    @property
    def finished(self) -> bool:
        """True once the report or an error is there."""
        return self.report is not None or bool(self.error)


@dataclass
class Runs:
    """The runs of this process (kept until the process ends; the last 20 only)."""

    runs: dict[str, Run] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, owner: str, scenario: Any) -> Run:
        """Start `scenario` in a thread; refuses when MAX_RUNNING runs are busy."""
        with self.lock:
            if sum(not r.finished for r in self.runs.values()) >= MAX_RUNNING:
                raise HTTPException(429, "two capacity runs are busy; try again in a minute")
            run = Run(secrets.token_hex(8), owner)
            self.runs[run.id] = run
            for old in list(self.runs)[:-20]:
                del self.runs[old]
        threading.Thread(target=self._work, args=(run, scenario), daemon=True).start()
        return run

    @staticmethod
    def _work(run: Run, scenario: Any) -> None:
        def progress(done: int, total: int) -> None:
            run.done, run.total = done, total

        try:
            run.report = capacity.run_simulation(scenario, progress=progress)
        except EssenceError as error:
            run.error = str(error)
        except Exception:
            logging.getLogger(__name__).exception("planner run %s failed", run.id)
            run.error = "the simulation failed; nothing was saved"

    def get(self, run_id: str, owner: str) -> Run:
        """A run of `owner`; 404 for anyone else's."""
        run = self.runs.get(run_id)
        if run is None or run.owner != owner:
            raise HTTPException(404, f"run {run_id}: not found")
        return run


def _runs(request: Request) -> Runs:
    state = request.app.state
    if not hasattr(state, "planner_runs"):
        state.planner_runs = Runs()
    return state.planner_runs


def _number(name: str, text: str) -> int:
    low, high = LIMITS[name]
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(name, text, "expected a whole number") from None
    if not low <= value <= high:
        raise InvalidInput(name, value, f"must be {low} to {high} on this page")
    return value


@router.get("/planner", response_class=HTMLResponse)
def planner_page(request: Request, session: SignedIn) -> HTMLResponse:
    """The scenario form (planners and coordinators)."""
    auth.authorise(web_state(request).context(session.user_id), "plan capacity", *PLANNER_ROLES)
    values = {"children_per_year": "300", "years": "2", "replications": "4", "setup": "central"}
    return render(
        request, "planner.html", session, values=values, errors={}, setups=SETUPS, run=None
    )


@router.post("/planner/runs", response_class=HTMLResponse)
def start_run(
    request: Request,
    session: SignedIn,
    children_per_year: Annotated[str, Form(max_length=6)] = "300",
    years: Annotated[str, Form(max_length=3)] = "2",
    replications: Annotated[str, Form(max_length=3)] = "4",
    setup: Annotated[str, Form(max_length=20)] = "central",
) -> Response:
    """Validate the scenario and start it; htmx then polls the run's progress."""
    auth.authorise(web_state(request).context(session.user_id), "plan capacity", *PLANNER_ROLES)
    values = {
        "children_per_year": children_per_year,
        "years": years,
        "replications": replications,
        "setup": setup,
    }
    try:
        if setup not in SETUPS:
            raise InvalidInput("setup", setup, "one of " + ", ".join(SETUPS))
        overrides = {name: _number(name, values[name]) for name in LIMITS}
        scenario = capacity.load_scenario(team=setup, overrides=overrides)
    except InvalidInput as error:
        return render(
            request,
            "planner.html",
            session,
            422,
            values=values,
            errors={error.field: error.reason},
            setups=SETUPS,
            run=None,
        )
    run = _runs(request).start(session.user_id, scenario)
    if request.headers.get("HX-Request"):
        return render(request, "_planner_run.html", session, run=run, charts=None)
    return RedirectResponse(f"/planner/runs/{run.id}", status_code=303)


@router.get("/planner/runs/{run_id}", response_class=HTMLResponse)
def show_run(
    request: Request,
    session: SignedIn,
    run_id: Annotated[str, Path(min_length=1, max_length=32)],
) -> HTMLResponse:
    """A run's progress, or its charts and equity table when finished."""
    run = _runs(request).get(run_id, session.user_id)
    charts = lead_time_charts(run.report) if run.report else None
    name = "_planner_run.html" if request.headers.get("HX-Request") else "planner_run.html"
    return render(request, name, session, run=run, charts=charts)


def lead_time_charts(report: SimulationReport) -> dict[str, Any]:
    """SVG geometry: each policy's lead-time percentile curve, and median/p90 bars with CIs."""
    width, height, left, bottom = 560, 260, 50, 230
    top_days = max([160.0] + [max(p.lead_time_percentiles or [0.0]) for p in report.policies])
    top_days = min(top_days, 400.0)

    def y(days: float) -> float:
        return round(bottom - min(days, top_days) / top_days * (bottom - 20), 1)

    curves = []
    for index, policy in enumerate(report.policies):
        values = policy.lead_time_percentiles
        step = (width - left - 10) / max(1, len(values) - 1)
        points = " ".join(f"{left + i * step:.1f},{y(v)}" for i, v in enumerate(values))
        curves.append({"policy": policy.policy, "points": points, "index": index})
    ticks = [(y(d), d) for d in range(0, int(top_days) + 1, 28)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "bottom": bottom,
        "curves": curves,
        "ticks": ticks,
        "line_90": y(report.target_days),
        "line_140": y(report.baseline_days),
    }
