"""Rendering pages: the Jinja2 environment with gettext, the interface's words and date filters.

Every template is rendered in the request's language (`essence.web.i18n`), with the
signed-in session, its CSRF token and the names of the team (never login ids or keys).
"""

from __future__ import annotations

import re
from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from essence.adapters.web_sessions import Session
from essence.services.views import WorkItemView
from essence.web import errors_i18n, i18n, terms
from essence.web.problems import Problem
from essence.web.timeline import badge


def ask_to_complete(step_title: str, child_name: str) -> str:
    """The worklist's "are you sure" for completing a step (a plain string, escaped once on
    output: Jinja's translated Markup escapes its arguments again on every row)."""
    return i18n.gettext("Mark “%(step)s” for %(child)s as done?") % {
        "step": step_title,
        "child": child_name,
    }


templates = Jinja2Templates(directory=str(files("essence.web") / "templates"))
_env = templates.env
_env.auto_reload = False  # package files: no stat() of the template on every page
_env.add_extension("jinja2.ext.i18n")
_env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
_ROWS: dict[tuple[str, ...], Markup] = {}
ROWS_KEPT = 4096  # rendered worklist rows kept per process (oldest go first)


def worklist_row(item: WorkItemView, csrf: str, names: dict[str, str]) -> Markup:
    """One worklist row as HTML. A clinician's list is reloaded after every change and most
    rows stay as they were, so each row is rendered once for what it shows (the step's
    fields, the names of the others taking part), the language and the session's CSRF token,
    and reused while all of those stay the same (a row took about 500 template calls)."""
    others = tuple(names.get(cid) or cid for cid in item.joint_with)
    key = (i18n.current_language(), csrf, item.model_dump_json(), *others)
    row = _ROWS.get(key)
    if row is None:
        row = Markup(
            _env.get_template("_worklist_row.html").render(
                item=item, csrf=csrf, who=lambda cid: names.get(cid) or cid
            )
        )
        if len(_ROWS) >= ROWS_KEPT:
            _ROWS.pop(next(iter(_ROWS), key), None)
        _ROWS[key] = row
    return row


_env.globals.update(
    ask_to_complete=ask_to_complete,
    worklist_row=worklist_row,
    badge=badge,
    current_language=i18n.current_language,
    policy_label=terms.policy,
    dimension_label=terms.dimension,
    group_label=terms.group,
)
_env.filters.update(
    step_title=terms.step_title,
    profession=terms.profession,
    organisation=terms.organisation,
    region_group=terms.region_group,
    gender=terms.gender,
    state=terms.state,
    audit_action=terms.audit_action,
    role=terms.role,
    outcome=terms.outcome,
    day=i18n.format_day,
    weekday=i18n.format_weekday,
    clock=i18n.format_time,
    moment=i18n.format_moment,
    stored_error=errors_i18n.from_stored,
)


def prepare() -> int:
    """Compile every page template now (Jinja caches them) and load the languages' calendar
    data, so the first request after a start does not pay for either (about 0.35 s).
    Returns how many templates were compiled."""
    names = _env.list_templates(extensions=["html"])
    for name in names:
        _env.get_template(name)
    i18n.load_locales()
    return len(names)


def render(
    request: Request, name: str, session: Session | None, status: int = 200, **values: Any
) -> HTMLResponse:
    """Render a template with the session's user, CSRF token, language and team names."""
    names: dict[str, str] = values.pop("names", None) or _team_names(request, session)
    values.update(
        request=request,
        session=session,
        csrf=session.csrf if session else "",
        lang=i18n.current_language(),
        names=names,
        who=lambda cid: names.get(cid) or cid,
        waits_of=lambda waits: waiting_lines(waits, names),
    )
    return templates.TemplateResponse(request, name, values, status_code=status)


_WAITERS = {
    "family": lambda: i18n.gettext("the family"),
    "unassigned": lambda: i18n.gettext("unassigned"),
}


_CONSENT = re.compile(r"^(?:consent|waiting on consent) \((\d+) of (\d+)\)$")


def waiting_lines(waits: list[str], names: dict[str, str]) -> list[str]:
    """The service's "what the case waits on" lines in words: step titles and people's names.

    Lines look like ``medical_exam ← md-1``, ``intake ← coord-1 (on hold)``,
    ``medical_exam ← waiting on consent (1 of 2)`` or ``consent (1 of 2)``.
    """
    lines = []
    for line in waits:
        key, arrow, rest = line.partition(" ← ")
        target = rest if arrow else key
        consent = _CONSENT.match(target)
        if consent:
            what = i18n.gettext("waiting on consent (%(given)s of %(all)s)") % {
                "given": consent.group(1),
                "all": consent.group(2),
            }
        else:
            people, _sep, held = target.partition(" (")
            what = ", ".join(
                names.get(p) or _WAITERS.get(p, lambda p=p: p)() for p in people.split(", ")
            )
            if held:
                what += f" ({terms.state('on-hold')})"
        lines.append(f"{terms.step_title(key)}: {what}" if arrow else what)
    return lines


def _team_names(request: Request, session: Session | None) -> dict[str, str]:
    if session is None:
        return {}
    from essence.web.deps import web_state

    return web_state(request).team_names(session.user_id)


def error_page(request: Request, item: Problem, session: Session | None) -> HTMLResponse:
    """An error as a page, or as a fragment in the error style for htmx requests."""
    name = "_error.html" if request.headers.get("HX-Request") else "error.html"
    return render(request, name, session, item.status, problem=item)
