"""The twin's team and its calendars: the scenario's staff as clinicians, absences from streams.

Staff are created in the simulator's server order (team-major, professions sorted), so row i
of `essence.simulation.staff_calendar.staff_minutes` drawn on the replication's staff stream is
clinician i's calendar: the twin and the simulator share holidays, vacations and sick days.
Long absences (a working week or more) are vacations, known and recorded in advance; shorter
ones are sick days, called in on the morning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from essence.domain.calendar import is_working_day
from essence.domain.professions import Organisation, Profession
from essence.domain.team import Absence, Clinician, Roster
from essence.simulation.model import Model

VACATION_MIN_WORKING_DAYS = 5

SHORT_IDS = {
    Profession.COORDINATOR: "coord",
    Profession.PSYCHOLOGIST: "psy",
    Profession.PHYSICIAN: "md",
    Profession.SPEECH_THERAPIST: "slp",
    Profession.PHYSIOTHERAPIST: "pt",
    Profession.OCCUPATIONAL_THERAPIST: "ot",
    Profession.BHV_NURSE: "bhv",
    Profession.HABILITATION: "hab",
}
ORGANISATIONS = {
    Profession.COORDINATOR: Organisation.BUP,
    Profession.PSYCHOLOGIST: Organisation.BUP,
    Profession.PHYSICIAN: Organisation.BUC,
    Profession.SPEECH_THERAPIST: Organisation.LOGOPEDI,
    Profession.PHYSIOTHERAPIST: Organisation.HABILITATION,
    Profession.OCCUPATIONAL_THERAPIST: Organisation.HABILITATION,
    Profession.BHV_NURSE: Organisation.BHV,
    Profession.HABILITATION: Organisation.HABILITATION,
}


def scenario_team(model: Model) -> list[Clinician]:
    """One clinician per staff member of the scenario, in the simulator's server order.

    Ids are ``psy-1``, ``psy-2``, … (numbered across teams); names are invented labels.
    """
    scenario = model.scenario
    counters: dict[Profession, int] = {}
    team = []
    for spec, sizes in zip(scenario.teams, model.pool_size, strict=True):
        for name, size in zip(model.professions, sizes, strict=True):
            profession = Profession(name)
            for _ in range(size):
                number = counters[profession] = counters.get(profession, 0) + 1
                short = SHORT_IDS[profession]
                team.append(
                    Clinician(
                        id=f"{short}-{number}",
                        name=f"Twin {short} {number}",
                        profession=profession,
                        organisation=ORGANISATIONS[profession],
                        base=spec.base,
                        roster=Roster(tuple(scenario.roster)),
                        daily_cap_minutes=scenario.daily_cap_minutes,
                    )
                )
    return team


@dataclass
class AbsencePlan:
    """Absences of the team drawn from the simulator's staff calendars.

    Attributes:
        vacations: Per clinician id, the long absences recorded in advance.
        sick: Per day, the clinicians who call in sick that morning.
    """

    vacations: dict[str, list[Absence]] = field(default_factory=dict)
    sick: dict[date, list[str]] = field(default_factory=dict)

    @property
    def sick_days(self) -> int:
        """Clinician-days of sick leave."""
        return sum(len(ids) for ids in self.sick.values())


def absence_plan(team: list[Clinician], minutes: np.ndarray, start: date) -> AbsencePlan:
    """Split each clinician's days off (roster minutes > 0 but calendar 0) into absences.

    Args:
        team: Clinicians in the order of the calendar rows.
        minutes: The simulator's staff minutes, shape (staff, days), day 0 = `start`.
        start: Calendar date of day 0.
    """
    plan = AbsencePlan()
    days = minutes.shape[1]
    for row, clinician in enumerate(team):
        off = [
            d
            for d in range(days)
            if minutes[row, d] == 0 and clinician.minutes_on(start + timedelta(days=d)) > 0
        ]
        for run in _runs(off, start):
            first, last = start + timedelta(days=run[0]), start + timedelta(days=run[-1])
            working = sum(1 for d in run if is_working_day(start + timedelta(days=d)))
            if working >= VACATION_MIN_WORKING_DAYS:
                plan.vacations.setdefault(clinician.id, []).append(Absence(first, last, "vacation"))
            else:
                for d in run:
                    plan.sick.setdefault(start + timedelta(days=d), []).append(clinician.id)
    return plan


def _runs(off_days: list[int], start: date) -> list[list[int]]:
    """Group days off into runs, bridging weekends and holidays (no working day between)."""
    runs: list[list[int]] = []
    for d in off_days:
        if runs and _only_days_off_between(runs[-1][-1], d, start):
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def _only_days_off_between(previous: int, current: int, start: date) -> bool:
    return all(not is_working_day(start + timedelta(days=d)) for d in range(previous + 1, current))
