"""The case page and the coordinator's actions on it, the family letter and calendars.

Each action calls one service as the signed-in user. With htmx a success swaps the case's
body (with a confirmation at the top) and an error lands, in the error style, right under
the form that failed (`HX-Retarget`); without JavaScript the browser is sent back to the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from essence.domain.errors import EssenceError, InvalidInput
from essence.domain.messages import N_
from essence.services import cases, reporting, scheduling, steps, team
from essence.services.views import CaseView
from essence.web import errors_i18n, i18n
from essence.web.deps import web_state
from essence.web.pages import SignedIn
from essence.web.problems import status_of
from essence.web.render import render
from essence.web.timeline import timeline

router = APIRouter(include_in_schema=False)
CaseId = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_.-]+$")]
ClinicianId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
ACTIONS = (
    "guardian",
    "withdraw",
    "assign",
    "cancel",
    "hold",
    "resume",
    "returned",
    "revert",
    "reviewed",
    "noshow",
)
DONE = {
    "guardian": i18n.N_("Consent recorded."),
    "revert": i18n.N_("The step was taken back as entered in error."),
    "reviewed": i18n.N_("Marked as reviewed."),
    "noshow": i18n.N_("Recorded that the family did not attend; the step can be booked again."),
    "withdraw": i18n.N_("The case was withdrawn; its open steps are cancelled."),
    "assign": i18n.N_("The step was reassigned."),
    "cancel": i18n.N_("The step was cancelled as not needed."),
    "hold": i18n.N_("The step is on hold."),
    "resume": i18n.N_("The step was resumed."),
    "returned": i18n.N_("Marked as returned."),
}


def _case_values(request: Request, session: Any, view: CaseView) -> dict[str, Any]:
    state = web_state(request)
    values: dict[str, Any] = {"case": view, "chart": timeline(view, state.today())}
    if session.role in ("coordinator", "admin"):
        staff = team.list_clinicians(state.context(session.user_id))
        values["staff_by_profession"] = {
            p: [c for c in staff if c.profession == p] for p in {c.profession for c in staff}
        }
    return values


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, session: SignedIn, case_id: CaseId) -> HTMLResponse:
    """The case: facts, the actions of the day, steps, timeline, audit (the view is audited)."""
    view = cases.show_case(web_state(request).context(session.user_id), case_id)
    return render(request, "case.html", session, **_case_values(request, session, view))


@router.post("/cases/{case_id}/actions/{action}", response_class=HTMLResponse)
def case_action(
    request: Request,
    session: SignedIn,
    case_id: CaseId,
    action: Annotated[str, Path(pattern="^(" + "|".join(ACTIONS) + ")$")],
    step: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form()] = "",
    clinician: Annotated[str, Form(max_length=40)] = "",
    guardian: Annotated[str, Form(max_length=1)] = "",
    given: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Record a guardian's consent (given or withdrawn: the case pauses and resumes with
    it), withdraw the case, reassign, cancel as not needed, hold, resume, mark returned,
    revert a step entered in error, mark reviewed, or record a no-show."""
    ctx = web_state(request).context(session.user_id)
    slot = f"#msg-step-{step}" if step else f"#msg-{action}" + (guardian if guardian else "")
    try:
        if len(reason) > 200:
            raise InvalidInput("reason", "", N_("at most %(most)s characters", most=200))
        run: Callable[[], object] = {
            "guardian": lambda: cases.record_guardian_consent(
                ctx, case_id, _guardian(guardian), given == "yes"
            ),
            "withdraw": lambda: cases.withdraw_case(ctx, case_id, _needed(reason)),
            "assign": lambda: cases.assign_step(ctx, case_id, step, clinician),
            "cancel": lambda: steps.cancel_step(ctx, case_id, step, _needed(reason)),
            "hold": lambda: steps.hold_step(ctx, case_id, step, _needed(reason)),
            "resume": lambda: steps.resume_step(ctx, case_id, step),
            "returned": lambda: steps.complete_step(ctx, case_id, step, reason.strip()),
            "revert": lambda: steps.revert_step(ctx, case_id, step, _needed(reason)),
            "reviewed": lambda: steps.mark_reviewed(ctx, case_id, step),
            "noshow": lambda: steps.record_no_show(ctx, case_id, step),
        }[action]
        run()
    except EssenceError as error:
        if not request.headers.get("HX-Request"):
            raise
        status, _title = status_of(error)
        response = render(
            request, "_action_error.html", session, status, message=errors_i18n.message(error)
        )
        response.headers.update({"HX-Retarget": slot, "HX-Reswap": "innerHTML"})
        return response
    if not request.headers.get("HX-Request"):
        return RedirectResponse(f"/cases/{case_id}", status_code=303)
    view = cases.show_case(ctx, case_id)
    values = _case_values(request, session, view)
    return render(request, "_case_body.html", session, done=i18n.gettext(DONE[action]), **values)


def _guardian(text: str) -> int:
    if text not in ("1", "2"):
        raise InvalidInput("guardian", text, N_("must be 1 or 2"))
    return int(text)


def _needed(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput("reason", "", N_("give a reason"))
    return reason.strip()


@router.get("/cases/{case_id}/audit", response_class=HTMLResponse)
def case_audit(request: Request, session: SignedIn, case_id: CaseId) -> HTMLResponse:
    """The case's audit trail in Stockholm time (a fragment the case page loads)."""
    lines = reporting.audit_extract(web_state(request).context(session.user_id), case_id)
    name = "_audit.html" if request.headers.get("HX-Request") else "audit.html"
    return render(request, name, session, lines=lines, case_id=case_id, zone="Europe/Stockholm")


@router.get("/cases/{case_id}/letter", response_class=HTMLResponse)
def family_letter(request: Request, session: SignedIn, case_id: CaseId) -> HTMLResponse:
    """The family letter as a printable A4 page (print stylesheet; the browser prints it)."""
    ctx = web_state(request).context(session.user_id)
    letter, _ics = scheduling.family_documents(ctx, case_id)
    view = cases.show_case(ctx, case_id)
    booked = scheduling.show_schedule(ctx, case_id=case_id)
    return render(request, "letter.html", session, case=view, letter=letter, appointments=booked)


@router.get("/cases/{case_id}/family.ics")
def family_calendar(request: Request, session: SignedIn, case_id: CaseId) -> Response:
    """The family's appointments as an iCalendar file."""
    _letter, ics = scheduling.family_documents(web_state(request).context(session.user_id), case_id)
    return _ics(ics, f"essence-{case_id}.ics")


@router.get("/clinicians/{clinician_id}/calendar.ics")
def clinician_calendar(request: Request, session: SignedIn, clinician_id: ClinicianId) -> Response:
    """A clinician's booked appointments as an iCalendar file (case ids only, no names)."""
    ics = scheduling.clinician_calendar(web_state(request).context(session.user_id), clinician_id)
    return _ics(ics, f"essence-{clinician_id}.ics")


def _ics(text: str, filename: str) -> Response:
    return PlainTextResponse(
        text,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/team", response_class=HTMLResponse)
def team_page(request: Request, session: SignedIn) -> HTMLResponse:
    """The team with each member's calendar to download."""
    staff = team.list_clinicians(web_state(request).context(session.user_id))
    return render(request, "team.html", session, staff=staff)
