"""The words of the interface: what users read instead of the engine's keys.

Step titles, professions, organisations, region groups, states, audit actions, roles and the
labels of fields, each marked for the catalogue (English message ids, Swedish in
`locale/sv`). Templates reach these through the filters `essence.web.render` installs.
"""

from __future__ import annotations

from essence.web.i18n import N_, gettext

STEP_TITLES = {
    "intake": N_("Intake and consent (both guardians)"),
    "questionnaires": N_("Questionnaires returned"),
    "bhv_records": N_("BHV records and growth summary"),
    "preschool_observation": N_("Preschool observation"),
    "medical_exam": N_("Medical history and examination"),
    "parent_interview": N_("Parent interview"),
    "cognitive_test": N_("Cognitive test (WPPSI)"),
    "autism_observation": N_("Autism observation (ADOS-2)"),
    "language_assessment": N_("Language assessment"),
    "motor_assessment": N_("Motor assessment"),
    "vineland": N_("Adaptive functioning (Vineland)"),
    "team_conference": N_("Team conference"),
    "feedback_meeting": N_("Feedback meeting (återgivning)"),
    "written_report": N_("Written report"),
    "network_meeting": N_("Network meeting / SIP (with consent)"),
}
PROFESSIONS = {
    "coordinator": N_("coordinator"),
    "psychologist": N_("psychologist"),
    "physician": N_("physician"),
    "speech_therapist": N_("speech therapist"),
    "physiotherapist": N_("physiotherapist"),
    "occupational_therapist": N_("occupational therapist"),
    "bhv_nurse": N_("BHV nurse"),
    "habilitation": N_("habilitation"),
}
ORGANISATIONS = {
    "BUP": N_("BUP (child and adolescent psychiatry)"),
    "BHV": N_("BHV (child health care)"),
    "BUC": N_("BUC (paediatrics)"),
    "logopedi": N_("speech therapy"),
    "habilitation": N_("habilitation centre"),
    "primary_care": N_("primary care"),
}
REGION_GROUPS = {"umea": N_("Umeå"), "coast": N_("the coast"), "inland": N_("the inland")}
GENDERS = {"girl": N_("girls"), "boy": N_("boys"), "unknown": N_("unknown")}
STATES = {
    # steps
    "requested": N_("waiting"),
    "ready": N_("ready"),
    "in-progress": N_("in progress"),
    "on-hold": N_("on hold"),
    "completed": N_("done"),
    "cancelled": N_("cancelled – not needed"),
    "entered-in-error": N_("entered in error"),
    "needs-review": N_("needs review"),
    # cases
    "referred": N_("referred"),
    "consented": N_("consent complete"),
    "assessing": N_("being assessed"),
    "feedback-given": N_("feedback given"),
    "closed": N_("closed"),
    "withdrawn": N_("withdrawn"),
    "paused": N_("paused (consent missing)"),
    "assigned": N_("assigned"),
    "consent": N_("consented"),
    # appointments
    "booked": N_("booked"),
    "attended": N_("attended"),
    "no-show": N_("did not attend"),
    "given": N_("consent given"),
    "withdrawn-consent": N_("consent withdrawn"),
    "undone": N_("undone"),
}
AUDIT_ACTIONS = {
    "case.open": N_("opened the case"),
    "case.show": N_("viewed the case"),
    "case.list": N_("listed the case"),
    "case.search": N_("found the case in a search"),
    "case.consent": N_("recorded consent"),
    "case.withdraw": N_("withdrew the case"),
    "case.advance": N_("moved the case on"),
    "audit.extract": N_("read the audit trail"),
    "step.assign": N_("assigned a step"),
    "step.start": N_("started a step"),
    "step.complete": N_("completed a step"),
    "step.hold": N_("put a step on hold"),
    "step.resume": N_("resumed a step"),
    "step.cancel": N_("cancelled a step as not needed"),
    "step.revert": N_("took a step back as entered in error"),
    "step.undo": N_("undid a completion"),
    "step.no-show": N_("recorded a no-show"),
    "step.reviewed": N_("marked a step as reviewed"),
    "schedule.book": N_("booked appointments"),
    "schedule.show": N_("viewed the schedule"),
    "schedule.export": N_("exported a calendar"),
    "schedule.letter": N_("printed the family letter"),
    "worklist": N_("viewed a worklist"),
    "report": N_("read the lead-time report"),
}
POLICIES = {
    "sequential": N_("sequential referrals"),
    "coordinated": N_("coordinated team"),
}
DIMENSIONS = {
    "municipality_group": N_("region group"),
    "municipality": N_("municipality"),
    "gender": N_("gender"),
    "age_band": N_("age"),
}
OUTCOMES = {"ok": N_("ok"), "denied": N_("denied")}
ROLES = {
    "coordinator": N_("coordinator"),
    "clinician": N_("clinician"),
    "planner": N_("planner"),
    "admin": N_("administrator"),
}
FIELDS = {  # the form's names, and the fields the domain and services name in their errors
    "personnummer": N_("Personnummer"),
    "child_name": N_("Child's name"),
    "name": N_("Child's name"),
    "municipality": N_("Municipality"),
    "referring_unit": N_("Referring unit"),
    "referral_date": N_("Referral date"),
    "guardians": N_("Guardians with custody"),
    "guardian": N_("Guardian"),
    "consenting": N_("Guardians who consented"),
    "consent": N_("Guardians who consented"),
    "reason": N_("Reason"),
    "note": N_("Note"),
    "clinician": N_("Clinician"),
    "assign": N_("Clinician"),
    "step": N_("Step"),
    "profession": N_("Profession"),
    "date": N_("Date"),
    "from": N_("From"),
    "to": N_("To"),
    "term": N_("Term"),
    "week": N_("Week"),
    "q": N_("Search"),
    "user": N_("User"),
    "password": N_("Password"),
    "setup": N_("Team set-up"),
    "policy": N_("Policy"),
    "children_per_year": N_("Children per year"),
    "years": N_("Years scored"),
    "replications": N_("Replications"),
    "replan_every_days": N_("Re-plan every n-th working day"),
    "seed": N_("Seed"),
    "blocked_weekday": N_("Blocked weekday"),
    "blocked_weekdays": N_("Blocked weekdays"),
    "blocked_date": N_("Blocked date"),
    "interpreter_minutes": N_("Interpreter minutes"),
    "interpreter_language": N_("Interpreter language"),
    "absence": N_("Absence"),
    "roster": N_("Roster"),
    "time": N_("Time"),
    "lunch": N_("Lunch"),
    "daily_cap": N_("Daily cap"),
    "clinician_id": N_("Clinician"),
    "case_id": N_("Case"),
    "step_key": N_("Step"),
}
ERROR_TITLES = {
    400: N_("Bad request"),
    401: N_("Not signed in"),
    403: N_("Permission missing"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Not possible right now"),
    413: N_("Too large"),
    422: N_("Check what you entered"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
    503: N_("Service unavailable"),
}


def _label(table: dict[str, str], key: str | None) -> str:
    if key is None:
        return ""
    return gettext(table[key]) if key in table else key.replace("_", " ")


def step_title(key: str, fallback: str = "") -> str:
    """The title of a pathway step in the user's language (the template's title otherwise)."""
    return gettext(STEP_TITLES[key]) if key in STEP_TITLES else (fallback or key)


def profession(key: str) -> str:
    """A profession's name in the user's language (`speech_therapist` → logoped)."""
    return _label(PROFESSIONS, key)


def organisation(key: str) -> str:
    """An organisation's name in the user's language."""
    return _label(ORGANISATIONS, key)


def region_group(key: str) -> str:
    """A region group's name in the user's language (`inland` → inlandet)."""
    return _label(REGION_GROUPS, key)


def gender(key: str) -> str:
    """A gender group's name in the user's language."""
    return _label(GENDERS, key)


def state(key: str) -> str:
    """A case, step or appointment state in the user's language."""
    return _label(STATES, key)


def policy(key: str) -> str:
    """A simulated policy's name in the user's language."""
    return _label(POLICIES, key)


def dimension(key: str) -> str:
    """A breakdown's name (region group, municipality, gender, age)."""
    return _label(DIMENSIONS, key)


def group(dimension_key: str, name: str) -> str:
    """A group of a breakdown in the user's language (region groups and genders translated)."""
    if dimension_key == "municipality_group":
        return region_group(name)
    if dimension_key == "gender":
        return gender(name)
    return name


def outcome(key: str) -> str:
    """An audit outcome (ok, denied) in the user's language."""
    return _label(OUTCOMES, key)


def audit_action(key: str) -> str:
    """An audit action in plain words."""
    return _label(AUDIT_ACTIONS, key)


def role(key: str) -> str:
    """A role in the user's language."""
    return _label(ROLES, key)


def field_label(key: str) -> str:
    """A form field's label in the user's language."""
    return _label(FIELDS, key)


def error_title(status: int) -> str:
    """The heading of an error page for an HTTP status."""
    return gettext(ERROR_TITLES.get(status, N_("Something went wrong")))
