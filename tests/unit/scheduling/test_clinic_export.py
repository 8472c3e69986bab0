"""iCalendar per clinician and family, and the family letter: content and RFC 5545 form."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from essence.domain.errors import NotFound
from essence.scheduling.calendar_export import (
    clinician_ics,
    escape_text,
    family_ics,
    family_letter,
    fold_line,
)
from essence.scheduling.clinic_planner import plan_clinic
from tests.unit.scheduling.clinic_factories import case, clinician, settings, step, template

STAMP = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)


def planned():
    pathway = template(
        step("ados", "psychologist", "speech_therapist", minutes=60),
        step("conference", "psychologist", minutes=30, requires=["ados"], attendees=[]),
    )
    team = [clinician("psy-1", "psychologist"), clinician("slp-1", "speech_therapist")]
    cases = [case("c1", pathway, municipality="Vännäs", team_travels=True, first_name="Alva")]
    return plan_clinic(cases, team, settings()), {c.id: c for c in team}


def test_clinician_calendar_has_one_event_per_appointment_in_stockholm_time():
    plan, team = planned()
    text = clinician_ics(plan, "psy-1", team, stamp=STAMP)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 2
    assert "DTSTART;TZID=Europe/Stockholm:20270111T" in text
    assert "TZID:Europe/Stockholm" in text
    assert "LOCATION:local health centre\\, Vännäs" in text
    assert "Alva" not in text


def test_family_calendar_only_has_steps_the_family_attends():
    plan, team = planned()
    text = family_ics(plan, "c1", team, stamp=STAMP)
    assert text.count("BEGIN:VEVENT") == 1
    assert "You meet psy-1 (psychologist)\\, slp-1 (speech therapist)" in text
    assert "Alva" not in text


def test_family_letter_names_date_place_and_who_without_any_personnummer():
    plan, team = planned()
    letter = family_letter(plan, "c1", team, first_name="Alva")
    assert "for Alva" in letter
    assert "Monday 11 January 2027" in letter
    assert "local health centre, Vännäs" in letter
    assert "psy-1 (psychologist)" in letter
    assert not re.search(r"\d{6,8}[-+]?\d{4}", letter)


def test_unknown_case_or_clinician_is_not_found():
    plan, team = planned()
    with pytest.raises(NotFound):
        family_letter(plan, "nope", team)
    with pytest.raises(NotFound):
        clinician_ics(plan, "psy-9", team)


def test_text_is_escaped_and_long_lines_fold_at_75_octets():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    folded = fold_line("DESCRIPTION:" + "å" * 100)
    parts = folded.split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == "DESCRIPTION:" + "å" * 100
