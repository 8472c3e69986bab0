"""Small factories for the clinic planner tests: steps, templates, clinicians, cases, settings.

Dates start on Monday 11 January 2027 (no Swedish public holiday that week).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from essence.domain.pathway import PathwayTemplate
from essence.domain.professions import Organisation, Profession
from essence.domain.team import Absence, Clinician, Roster
from essence.scheduling.clinic_problem import PlanningCase, PlanSettings

START = date(2027, 1, 11)


def step(key: str, *professions: str, minutes: int = 60, **extra: Any) -> dict[str, Any]:
    """A step mapping; family-facing (child) unless `attendees` is given."""
    data: dict[str, Any] = {
        "key": key,
        "title": key.replace("_", " "),
        "professions": list(professions),
        "minutes": minutes if professions else 0,
        "attendees": ["child"],
        "location": "clinic",
    }
    data.update(extra)
    return data


def template(*steps: dict[str, Any]) -> PathwayTemplate:
    """A template whose last step is the feedback meeting unless one is marked."""
    items = [dict(s) for s in steps]
    if not any(s.get("milestone") == "feedback" for s in items):
        items[-1]["milestone"] = "feedback"
    return PathwayTemplate.from_mapping({"name": "test", "version": 1, "steps": items})


def clinician(
    clinician_id: str,
    profession: str,
    minutes: int = 360,
    absences: tuple[tuple[date, date], ...] = (),
    base: str = "Umeå",
) -> Clinician:
    """A clinician working `minutes` a day Monday–Friday."""
    return Clinician(
        id=clinician_id,
        name=clinician_id,
        profession=Profession(profession),
        organisation=Organisation.BUP,
        base=base,
        roster=Roster.uniform(minutes),
        absences=[Absence(a, b) for a, b in absences],
        daily_cap_minutes=max(minutes, 1),
    )


def case(case_id: str, pathway: PathwayTemplate, **extra: Any) -> PlanningCase:
    """A case referred 30 days before START, living in Umeå unless told otherwise."""
    extra.setdefault("referral_date", START - timedelta(days=30))
    extra.setdefault("municipality", "Umeå")
    return PlanningCase(case_id=case_id, template=pathway, **extra)


def settings(**extra: Any) -> PlanSettings:
    """Two-week horizon, no frozen window, one worker, seed 0, 10 s budget."""
    values: dict[str, Any] = {
        "start": START,
        "horizon_weeks": 2,
        "budget_s": 10.0,
        "frozen_working_days": 0,
        "workers": 1,
        "seed": 0,
    }
    values.update(extra)
    return PlanSettings(**values)


def day(offset: int) -> date:
    """START + offset calendar days."""
    return START + timedelta(days=offset)
