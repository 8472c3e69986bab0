"""The clinician's worklist: today's appointments in time order, this week, later.

Completing asks for confirmation (htmx `hx-confirm`) and can be undone for 10 minutes; the
undo is a correction (revert) under the hood. Errors land in the error style in the row
that failed; a success reloads the list through the `worklist-changed` event.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from essence.domain.errors import EssenceError, InvalidInput
from essence.domain.messages import N_
from essence.services import steps
from essence.services.views import WorkItemView
from essence.web import errors_i18n, i18n
from essence.web.deps import web_state
from essence.web.pages import SignedIn
from essence.web.problems import status_of
from essence.web.render import render

router = APIRouter(include_in_schema=False)
CaseId = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_.-]+$")]
StepKey = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
UNDO_MINUTES = steps.UNDO_MINUTES
GROUPS = (i18n.N_("Today"), i18n.N_("This week"), i18n.N_("Later or not booked yet"))


def grouped(items: list[WorkItemView], today: date) -> list[tuple[str, list[WorkItemView]]]:
    """Today (booked today or started) in time order, this week, later or not booked yet."""
    week_end = today + timedelta(days=6 - today.weekday())
    groups: dict[str, list[WorkItemView]] = {name: [] for name in GROUPS}
    for item in items:
        if item.state == "in-progress" or item.planned_on == today:
            groups[GROUPS[0]].append(item)
        elif item.planned_on is not None and today < item.planned_on <= week_end:
            groups[GROUPS[1]].append(item)
        else:
            groups[GROUPS[2]].append(item)
    far = datetime.max.replace(tzinfo=i18n.STOCKHOLM)
    for name, rows in groups.items():
        rows.sort(key=lambda i: (i.planned_on or date.max, i.starts_at or far, i.child_name))
        groups[name] = rows
    return [(i18n.gettext(name), rows) for name, rows in groups.items()]


@router.get("/worklist", response_class=HTMLResponse)
def worklist_page(request: Request, session: SignedIn) -> HTMLResponse:
    """My appointments and steps for today, this week and later."""
    state = web_state(request)
    items = steps.worklist(state.context(session.user_id))
    return render(
        request, "worklist.html", session, groups=grouped(items, state.today()), today=state.today()
    )


@router.get("/worklist/items", response_class=HTMLResponse)
def worklist_items(request: Request, session: SignedIn) -> HTMLResponse:
    """The worklist alone (htmx reloads it after each change)."""
    state = web_state(request)
    items = steps.worklist(state.context(session.user_id))
    return render(request, "_worklist_items.html", session, groups=grouped(items, state.today()))


@router.post("/worklist/{case_id}/{step_key}/{action}", response_class=HTMLResponse)
def change_step(
    request: Request,
    session: SignedIn,
    case_id: CaseId,
    step_key: StepKey,
    action: Annotated[str, Path(pattern="^(start|complete|hold|resume|undo|noshow)$")],
    note: Annotated[str, Form()] = "",
) -> Response:
    """Start, complete (with an outcome note), hold (with a reason), resume, record a
    no-show, or undo one's completion of the last 10 minutes."""
    ctx = web_state(request).context(session.user_id)
    htmx = bool(request.headers.get("HX-Request"))
    try:
        if len(note) > 200:
            raise InvalidInput("note", "", N_("at most %(most)s characters", most=200))
        if action == "start":
            change = steps.start_step(ctx, case_id, step_key)
        elif action == "complete":
            change = steps.complete_step(ctx, case_id, step_key, note.strip())
        elif action == "hold":
            change = steps.hold_step(ctx, case_id, step_key, note.strip())
        elif action == "resume":
            change = steps.resume_step(ctx, case_id, step_key)
        elif action == "noshow":
            change = steps.record_no_show(ctx, case_id, step_key)
        else:
            change = steps.undo_completion(ctx, case_id, step_key, minutes=UNDO_MINUTES)
    except EssenceError as error:
        if not htmx:
            raise
        response = render(
            request,
            "_action_error.html",
            session,
            status_of(error)[0],
            message=errors_i18n.message(error),
        )
        response.headers.update(
            {"HX-Retarget": f"#msg-{case_id}-{step_key}", "HX-Reswap": "innerHTML"}
        )
        return response
    if not htmx:
        return RedirectResponse("/worklist", status_code=303)
    response = render(
        request,
        "_change.html",
        session,
        change=change,
        action=action,
        undo_minutes=UNDO_MINUTES,
    )
    response.headers["HX-Trigger"] = "worklist-changed"
    return response
