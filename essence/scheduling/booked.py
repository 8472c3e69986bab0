"""A `Plan` rebuilt from booked appointments, so exports work on what is stored."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from ortools.sat.python import cp_model

from essence.scheduling.clinic_problem import Appointment, CaseMetrics, Plan, PlanSettings
from essence.scheduling.solver import SolveReport


def booked_plan(
    appointments: Iterable[Appointment], cases: Mapping[str, CaseMetrics], start: date
) -> Plan:
    """Wrap stored appointments as a plan (method "booked", nothing solved)."""
    report = SolveReport("FEASIBLE", None, None, None, 0.0, cp_model.CpSolver())
    return Plan(
        appointments=tuple(sorted(appointments, key=lambda a: (a.start, a.case_id))),
        unscheduled=(),
        cases=dict(cases),
        staff_km=0,
        report=report,
        method="booked",
        greedy_objective=0,
        settings=PlanSettings(start=start),
    )
