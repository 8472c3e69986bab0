"""Random small clinics: the planner never fails, CP-SAT never does worse than the greedy,
and a re-plan after an absence keeps the frozen window and every rule."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from essence.domain.geography import MUNICIPALITIES
from essence.scheduling.clinic_check import check_plan
from essence.scheduling.clinic_planner import plan_clinic, replan
from essence.scheduling.clinic_problem import default_template
from tests.unit.scheduling.clinic_factories import START, case, clinician, settings

PROFESSIONS = (
    "coordinator",
    "bhv_nurse",
    "physician",
    "psychologist",
    "speech_therapist",
    "physiotherapist",
    "habilitation",
)


def random_clinic(seed: int):
    rng = np.random.default_rng(seed)
    team = []
    for profession in PROFESSIONS:
        for n in range(int(rng.integers(1, 3))):
            first = START + timedelta(days=int(rng.integers(0, 20)))
            away = ((first, first + timedelta(days=int(rng.integers(0, 5)))),)
            minutes = int(rng.choice([240, 300, 360]))
            team.append(clinician(f"{profession}-{n}", profession, minutes, away))
    cases = []
    for i in range(int(rng.integers(2, 6))):
        home = MUNICIPALITIES[int(rng.integers(len(MUNICIPALITIES)))].name
        done = {"intake": START - timedelta(days=3)} if rng.random() < 0.5 else {}
        cases.append(
            case(
                f"c{i}",
                default_template(),
                municipality=home,
                team_travels=bool(rng.random() < 0.5),
                video_preferred=bool(rng.random() < 0.3),
                completed=done,
            )
        )
    return team, cases


@pytest.mark.parametrize("seed", range(4))
def test_random_clinics_plan_without_failing_and_keep_the_rules(seed):
    team, cases = random_clinic(seed)
    options = {"horizon_weeks": 6, "budget_s": 1.0, "frozen_working_days": 3}
    plan = plan_clinic(cases, team, settings(**options))
    assert plan.report.objective <= plan.greedy_objective
    hard = [f for f in check_plan(plan, cases, team) if "outside the working day" not in f]
    assert hard == []
    absent = plan.appointments[len(plan.appointments) // 2].clinician_ids[0]
    sick = next(c for c in team if c.id == absent)
    sick.absences.append(type(sick.absences[0])(START, START + timedelta(days=10)))
    again = replan(cases, team, settings(move_bookings=True, **options), plan.bookings())
    frozen_end = START + timedelta(days=3)
    before = {(a.case_id, a.step_key): a for a in plan.appointments}
    for appointment in again.appointments:
        old = before.get((appointment.case_id, appointment.step_key))
        if old is not None and old.day < frozen_end:
            assert (appointment.day, appointment.clinician_ids) == (old.day, old.clinician_ids)
