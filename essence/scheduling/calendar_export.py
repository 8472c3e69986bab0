"""iCalendar (RFC 5545) files per clinician and per family, and the family letter as plain text.

Written by hand (no extra dependency). No personnummer ever; the child's first name appears
only in the family letter, calendars carry the case id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime

from essence.domain.calendar import STOCKHOLM
from essence.domain.errors import NotFound
from essence.domain.team import Clinician
from essence.scheduling.clinic_problem import Appointment, Plan

PRODUCT_ID = "-//essence//clinic planner//EN"

_VTIMEZONE = (
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Stockholm",
    "BEGIN:STANDARD",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "END:STANDARD",
    "BEGIN:DAYLIGHT",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "END:DAYLIGHT",
    "END:VTIMEZONE",
)

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def escape_text(text: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma, newline."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold_line(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never splitting a UTF-8 character."""
    out: list[str] = []
    current, size = "", 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def clinician_ics(
    plan: Plan,
    clinician_id: str,
    clinicians: Mapping[str, Clinician],
    stamp: datetime | None = None,
) -> str:
    """A clinician's appointments as an iCalendar file (case ids only, no family names).

    Raises:
        NotFound: for an unknown clinician id.
    """
    if clinician_id not in clinicians:
        raise NotFound("clinician", clinician_id)
    events = []
    for appointment in plan.for_clinician(clinician_id):
        others = [_who(clinicians, c) for c in appointment.clinician_ids if c != clinician_id]
        description = f"Case {appointment.case_id}. Step: {appointment.step_key}."
        if others:
            description += " With " + ", ".join(others) + "."
        summary = f"{appointment.title} (case {appointment.case_id})"
        events.append(_event(appointment, summary, description, f"{clinician_id}", stamp))
    return _calendar(f"essence – {clinician_id}", events)


def family_ics(
    plan: Plan,
    case_id: str,
    clinicians: Mapping[str, Clinician],
    stamp: datetime | None = None,
) -> str:
    """The family's appointments (steps the child or guardians attend) as iCalendar.

    Raises:
        NotFound: for a case without appointments in the plan.
    """
    appointments = _family_appointments(plan, case_id)
    events = []
    for appointment in appointments:
        who = ", ".join(_who(clinicians, c) for c in appointment.clinician_ids)
        description = f"You meet {who}. Place: {appointment.place.describe()}."
        events.append(_event(appointment, appointment.title, description, "family", stamp))
    return _calendar("essence – your appointments", events)


def family_letter(
    plan: Plan,
    case_id: str,
    clinicians: Mapping[str, Clinician],
    first_name: str = "",
) -> str:
    """A plain-text letter to the family: dates, times, places and who they will meet.

    Args:
        plan: The plan.
        case_id: The case (shown as reference, never a personnummer).
        clinicians: The team, to name who the family meets.
        first_name: The child's first name (optional; only ever used here).
    """
    appointments = _family_appointments(plan, case_id)
    child = first_name.strip() or "your child"
    lines = [
        "Dear family,",
        "",
        f"Here are the appointments of the combined ESSENCE assessment for {child}.",
        "The team has put them together so that you come on as few days as possible.",
        "",
    ]
    for day, items in _by_day(appointments):
        lines.append(_long_date(day))
        for appointment in items:
            who = ", ".join(_who(clinicians, c) for c in appointment.clinician_ids)
            lines.append(
                f"  {appointment.start:%H:%M}-{appointment.end:%H:%M}  {appointment.title}"
            )
            lines.append(f"      Place: {appointment.place.describe()}. You meet: {who}.")
        lines.append("")
    metrics = plan.cases.get(case_id)
    if metrics is not None and metrics.feedback_date is not None:
        lines.append(
            f"Feedback meeting (återgivning) planned for {_long_date(metrics.feedback_date)}."
        )
    lines += [
        "If a time does not suit you, please call the coordinator as soon as you can.",
        f"Reference: case {case_id}",
        "",
    ]
    return "\n".join(lines)


# --- helpers --------------------------------------------------------------------------------


def _family_appointments(plan: Plan, case_id: str) -> list[Appointment]:
    if case_id not in plan.cases:
        raise NotFound("case", case_id)
    return [a for a in plan.for_case(case_id) if a.family_facing]


def _by_day(appointments: Iterable[Appointment]) -> list[tuple[date, list[Appointment]]]:
    grouped: dict[date, list[Appointment]] = {}
    for appointment in sorted(appointments, key=lambda a: a.start):
        grouped.setdefault(appointment.day, []).append(appointment)
    return list(grouped.items())


def _long_date(day: date) -> str:
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {day:%B %Y}"


def _who(clinicians: Mapping[str, Clinician], clinician_id: str) -> str:
    clinician = clinicians.get(clinician_id)
    if clinician is None:
        return clinician_id
    return f"{clinician.name} ({clinician.profession.value.replace('_', ' ')})"


def _local(moment: datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%Y%m%dT%H%M%S")


def _event(
    appointment: Appointment, summary: str, description: str, owner: str, stamp: datetime | None
) -> list[str]:
    when = (stamp or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    number = f"-{appointment.record_id}" if appointment.record_id is not None else ""
    uid = f"{appointment.case_id}-{appointment.step_key}{number}-{owner}@essence"
    status = "CANCELLED" if appointment.status == "cancelled" else "CONFIRMED"
    return [
        "BEGIN:VEVENT",
        f"UID:{escape_text(uid)}",
        f"DTSTAMP:{when}",
        f"SEQUENCE:{appointment.sequence}",
        f"STATUS:{status}",
        f"DTSTART;TZID=Europe/Stockholm:{_local(appointment.start)}",
        f"DTEND;TZID=Europe/Stockholm:{_local(appointment.end)}",
        f"SUMMARY:{escape_text(summary)}",
        f"LOCATION:{escape_text(appointment.place.describe())}",
        f"DESCRIPTION:{escape_text(description)}",
        "END:VEVENT",
    ]


def _calendar(name: str, events: list[list[str]]) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT_ID}",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{escape_text(name)}",
        *_VTIMEZONE,
    ]
    for event in events:
        lines.extend(event)
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + "\r\n" for line in lines)
