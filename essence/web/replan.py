"""Re-plan the schedule from the browser and watch it work.

The plan runs in a background thread within its time budget; the page polls the run (kept
in the database, so any worker can answer) and shows the solver's status, what was booked,
what moved and what is not scheduled yet.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from essence.adapters.web_runs import RunState, SqlRunStore
from essence.domain.access import Role
from essence.domain.errors import EssenceError
from essence.services import auth, scheduling
from essence.services.context import ServiceContext
from essence.services.scheduling import PlanView
from essence.web import errors_i18n, i18n
from essence.web.deps import web_state
from essence.web.pages import SignedIn
from essence.web.render import render

router = APIRouter(include_in_schema=False)
BUDGETS = (5, 15, 30, 60)
MAX_RUNNING = 1


def _budget(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        return BUDGETS[1]
    return value if value in BUDGETS else BUDGETS[1]


@router.get("/schedule", response_class=HTMLResponse)
def schedule_page(request: Request, session: SignedIn) -> HTMLResponse:
    """The re-plan form (coordinators)."""
    auth.authorise(
        web_state(request).context(session.user_id), "plan the schedule", Role.COORDINATOR
    )
    return render(request, "schedule.html", session, budgets=BUDGETS, run=None, plan=None)


@router.post("/schedule/replan", response_class=HTMLResponse)
def start_replan(
    request: Request,
    session: SignedIn,
    budget: Annotated[str, Form(max_length=3)] = "15",
    move_bookings: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Start a re-plan of every open case in the background; htmx then polls its progress."""
    state = web_state(request)
    ctx = state.context(session.user_id)
    auth.authorise(ctx, "plan the schedule", Role.COORDINATOR)
    store = state.runs
    if store.busy("replan") >= MAX_RUNNING:
        raise HTTPException(
            429,
            i18n.gettext("A re-plan is already running; wait for it to finish."),
            headers={"Retry-After": "30"},
        )
    seconds = _budget(budget)
    run = store.start("replan", session.user_id, seconds)
    threading.Thread(
        target=_work, args=(store, run.id, ctx, seconds, bool(move_bookings)), daemon=True
    ).start()
    if request.headers.get("HX-Request"):
        return render(request, "_replan_run.html", session, run=run, plan=None)
    return RedirectResponse(f"/schedule/runs/{run.id}", status_code=303)


def _work(store: SqlRunStore, run_id: str, ctx: ServiceContext, seconds: int, move: bool) -> None:
    finished = threading.Event()

    def tick() -> None:
        began = time.monotonic()
        while not finished.wait(1.0):
            store.progress(run_id, min(seconds, round(time.monotonic() - began)), seconds)

    threading.Thread(target=tick, daemon=True).start()
    try:
        plan = scheduling.plan_schedule(ctx, budget_s=float(seconds), move_bookings=move)
        store.finish(run_id, plan.model_dump_json())
    except EssenceError as error:
        store.fail(run_id, errors_i18n.for_later(error))
    except Exception:
        logging.getLogger(__name__).exception("re-plan run %s failed", run_id)
        store.fail(run_id, i18n.N_("the re-plan failed; nothing was booked"))
    finally:
        finished.set()


def _own(store: SqlRunStore, run_id: str, owner: str) -> RunState:
    state = store.get(run_id)
    if state is None or state.owner != owner or state.kind != "replan":
        raise HTTPException(404, i18n.gettext("Run %(id)s: not found.") % {"id": run_id})
    return state


@router.get("/schedule/runs/{run_id}", response_class=HTMLResponse)
def show_replan(
    request: Request,
    session: SignedIn,
    run_id: Annotated[str, Path(min_length=1, max_length=32, pattern="^[0-9a-f]+$")],
) -> HTMLResponse:
    """A re-plan's progress, then its result."""
    run = _own(web_state(request).runs, run_id, session.user_id)
    plan = PlanView.model_validate_json(run.result) if run.result else None
    name = "_replan_run.html" if request.headers.get("HX-Request") else "schedule.html"
    return render(request, name, session, run=run, plan=plan, budgets=BUDGETS)
