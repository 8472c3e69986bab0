"""The open-case form: every error at once under its field, every typed value kept.

Fields are checked one by one here (the same rules as the service, in the user's language)
so the coordinator sees all problems in one go; the service still validates everything and
its own errors (a duplicate case) land under the right field too. Long input is a field
message, never a bare 422 page.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from essence.domain.calendar import local_date
from essence.domain.errors import EssenceError, InvalidInput, NotFound
from essence.domain.geography import MUNICIPALITIES, municipality
from essence.domain.personnummer import Personnummer
from essence.services import cases
from essence.web import errors_i18n, i18n
from essence.web.deps import web_state
from essence.web.pages import SignedIn
from essence.web.render import render

router = APIRouter(include_in_schema=False)
LIMITS = {
    "personnummer": 20,
    "child_name": 120,
    "municipality": 40,
    "referring_unit": 120,
    "referral_date": 10,
    "guardians": 1,
    "consenting": 1,
}
SERVICE_FIELD = {
    "name": "child_name",
    "referral date": "referral_date",
    "referring unit": "referring_unit",
    "consent": "consenting",
    "personnummer": "personnummer",
    "municipality": "municipality",
    "guardians": "guardians",
}


def _form(values: dict[str, str], errors: dict[str, str], general: str = "") -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "general_error": general,
        "limits": LIMITS,
        "municipalities": [m.name for m in MUNICIPALITIES],
    }


@router.get("/cases/new", response_class=HTMLResponse)
def new_case_form(request: Request, session: SignedIn) -> HTMLResponse:
    """The form to open a case from a referral."""
    today = web_state(request).today().isoformat()
    values = {"referral_date": today, "guardians": "2", "consenting": "0"}
    return render(request, "case_new.html", session, **_form(values, {}))


def check_referral(values: dict[str, str], today: date) -> dict[str, str]:
    """Every problem of the typed referral, field by field, in the user's language."""
    errors: dict[str, str] = {}
    for name, limit in LIMITS.items():
        if len(values.get(name, "")) > limit:
            errors[name] = i18n.gettext("At most %(limit)s characters.") % {"limit": limit}
    if "personnummer" not in errors:
        try:
            Personnummer.parse(values["personnummer"], today=today)
        except InvalidInput as error:
            errors["personnummer"] = errors_i18n.reason(error)
    for name in ("child_name", "referring_unit"):
        if name not in errors and not values[name].strip():
            errors[name] = i18n.gettext("Fill this in.")
    if "municipality" not in errors:
        try:
            municipality(values["municipality"])
        except InvalidInput:
            errors["municipality"] = i18n.gettext("Choose one of Västerbotten's municipalities.")
    if "referral_date" not in errors:
        try:
            referral = date.fromisoformat(values["referral_date"])
            if referral > today:
                errors["referral_date"] = i18n.gettext("The referral date lies in the future.")
        except ValueError:
            errors["referral_date"] = i18n.gettext("Give a date as YYYY-MM-DD.")
    guardians = _whole(values["guardians"])
    if guardians not in (1, 2):
        errors.setdefault("guardians", i18n.gettext("1 or 2 guardians."))
    consenting = _whole(values["consenting"])
    if consenting is None or not 0 <= consenting <= (guardians or 2):
        errors.setdefault(
            "consenting", i18n.gettext("From 0 to %(most)s.") % {"most": guardians or 2}
        )
    return errors


def _whole(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


@router.post("/cases/new", response_class=HTMLResponse)
def open_case(
    request: Request,
    session: SignedIn,
    personnummer: Annotated[str, Form()] = "",
    child_name: Annotated[str, Form()] = "",
    municipality: Annotated[str, Form()] = "",
    referring_unit: Annotated[str, Form()] = "",
    referral_date: Annotated[str, Form()] = "",
    guardians: Annotated[str, Form()] = "2",
    consenting: Annotated[str, Form()] = "0",
    team_travels: Annotated[str, Form()] = "",
) -> Response:
    """Open the case, or show every problem under its field with the typed values kept."""
    state = web_state(request)
    values = {
        "personnummer": personnummer[:40],
        "child_name": child_name[:200],
        "municipality": municipality[:60],
        "referring_unit": referring_unit[:200],
        "referral_date": referral_date[:20],
        "guardians": guardians[:5],
        "consenting": consenting[:5],
        "team_travels": "true" if team_travels else "",
    }
    errors = check_referral(values, local_date(state.clock()))
    if errors:
        return render(request, "case_new.html", session, 422, **_form(values, errors))
    try:
        view = cases.open_case(
            state.context(session.user_id),
            cases.Referral(
                personnummer=personnummer,
                child_name=child_name.strip(),
                municipality=municipality.strip(),
                referring_unit=referring_unit.strip(),
                referral_date=date.fromisoformat(referral_date),
                guardians=int(guardians),
                consenting=int(consenting),
                team_travels=bool(team_travels),
            ),
        )
    except (InvalidInput, NotFound) as error:
        return render(request, "case_new.html", session, 422, **_service_error(values, error))
    return RedirectResponse(f"/cases/{view.id}", status_code=303)


def _service_error(values: dict[str, str], error: EssenceError) -> dict[str, Any]:
    if isinstance(error, InvalidInput) and error.field in SERVICE_FIELD:
        return _form(values, {SERVICE_FIELD[error.field]: errors_i18n.reason(error)})
    return _form(values, {}, errors_i18n.message(error))
