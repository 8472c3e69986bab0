"""The planner page: run a capacity scenario in the background, poll its progress, show results.

Results are aggregates of simulated children only (groups under 5, and the next smallest of
the same breakdown, suppressed by the simulator); a run is bounded in size, at most two run
at once, and runs live in the database so any worker process can show their progress.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from essence.adapters.web_runs import RunState, SqlRunStore
from essence.domain.access import Role
from essence.domain.errors import EssenceError, InvalidInput
from essence.services import auth, capacity
from essence.services.capacity import SimulationReport
from essence.web import errors_i18n, i18n
from essence.web.deps import web_state
from essence.web.pages import SignedIn
from essence.web.render import render

router = APIRouter(include_in_schema=False)
SETUPS = ("central", "satellites", "ambulating", "travelling")
SETUP_LABELS = {
    "central": i18n.N_("one team in Umeå"),
    "satellites": i18n.N_("teams in Umeå, Skellefteå and Lycksele"),
    "ambulating": i18n.N_("an ambulating team"),
    "travelling": i18n.N_("families travel to Umeå"),
}

MAX_RUNNING = 2
LIMITS = {"children_per_year": (20, 1000), "years": (1, 5), "replications": (2, 20)}
PLANNER_ROLES = (Role.PLANNER, Role.COORDINATOR)


@dataclass(frozen=True)
class Run:
    """A capacity run as the page shows it: progress, then the report or an error."""

    id: str
    done: int
    total: int
    report: SimulationReport | None
    error: str

    @property
    def finished(self) -> bool:
        """True once the report or an error is there."""
        return self.report is not None or bool(self.error)


def _run(state: RunState) -> Run:
    report = SimulationReport.model_validate_json(state.result) if state.result else None
    return Run(state.id, state.done, state.total, report, state.error)


def start_capacity_run(store: SqlRunStore, owner: str, scenario: Any) -> Run:
    """Start `scenario` in a thread; refuses (429) when MAX_RUNNING runs are busy anywhere."""
    if store.busy("capacity") >= MAX_RUNNING:
        raise HTTPException(
            429,
            i18n.gettext("Two capacity runs are busy; try again in a minute."),
            headers={"Retry-After": "60"},
        )
    state = store.start("capacity", owner, 1)
    threading.Thread(target=_work, args=(store, state.id, scenario), daemon=True).start()
    return _run(state)


def _work(store: SqlRunStore, run_id: str, scenario: Any) -> None:
    def progress(done: int, total: int) -> None:
        store.progress(run_id, done, total)

    try:
        report = capacity.run_simulation(scenario, progress=progress)
        store.finish(run_id, report.model_dump_json())
    except EssenceError as error:
        store.fail(run_id, errors_i18n.for_later(error))
    except Exception:
        logging.getLogger(__name__).exception("planner run %s failed", run_id)
        store.fail(run_id, i18n.N_("the simulation failed; nothing was saved"))


def get_run(store: SqlRunStore, run_id: str, owner: str) -> Run:
    """A capacity run of `owner`; 404 for anyone else's."""
    state = store.get(run_id)
    if state is None or state.owner != owner or state.kind != "capacity":
        raise HTTPException(404, i18n.gettext("Run %(id)s: not found.") % {"id": run_id})
    return _run(state)


def _numbers(values: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """The scenario's numbers, and a message per field that is not a whole number in range."""
    numbers: dict[str, int] = {}
    errors: dict[str, str] = {}
    for name, (low, high) in LIMITS.items():
        try:
            value = int(values[name])
        except ValueError:
            errors[name] = i18n.gettext("Give a whole number.")
            continue
        if not low <= value <= high:
            errors[name] = i18n.gettext("From %(low)s to %(high)s on this page.") % {
                "low": low,
                "high": high,
            }
        numbers[name] = value
    if values["setup"] not in SETUPS:
        errors["setup"] = i18n.gettext("Choose one of the set-ups.")
    return numbers, errors


def _form(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    return {"values": values, "errors": errors, "setups": _setups()}


def _setups() -> list[tuple[str, str]]:
    return [(key, i18n.gettext(SETUP_LABELS[key])) for key in SETUPS]


@router.get("/planner", response_class=HTMLResponse)
def planner_page(request: Request, session: SignedIn) -> HTMLResponse:
    """The scenario form (planners and coordinators)."""
    auth.authorise(web_state(request).context(session.user_id), "plan capacity", *PLANNER_ROLES)
    values = {"children_per_year": "300", "years": "2", "replications": "4", "setup": "central"}
    return render(request, "planner.html", session, run=None, **_form(values, {}))


@router.post("/planner/runs", response_class=HTMLResponse)
def start_run(
    request: Request,
    session: SignedIn,
    children_per_year: Annotated[str, Form()] = "300",
    years: Annotated[str, Form()] = "2",
    replications: Annotated[str, Form()] = "4",
    setup: Annotated[str, Form()] = "central",
) -> Response:
    """Validate the scenario and start it; htmx then polls the run's progress."""
    auth.authorise(web_state(request).context(session.user_id), "plan capacity", *PLANNER_ROLES)
    values = {
        "children_per_year": children_per_year[:12],
        "years": years[:12],
        "replications": replications[:12],
        "setup": setup[:20],
    }
    numbers, errors = _numbers(values)
    scenario = None
    if not errors:
        try:
            scenario = capacity.load_scenario(team=values["setup"], overrides=numbers)
        except InvalidInput as error:
            errors = {"setup": errors_i18n.message(error)}
    if errors:
        htmx = bool(request.headers.get("HX-Request"))
        name = "_planner_form.html" if htmx else "planner.html"
        response = render(request, name, session, 422, run=None, **_form(values, errors))
        if htmx:
            response.headers.update({"HX-Retarget": "#planner-form", "HX-Reswap": "outerHTML"})
        return response
    run = start_capacity_run(web_state(request).runs, session.user_id, scenario)
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
    run = get_run(web_state(request).runs, run_id, session.user_id)
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
