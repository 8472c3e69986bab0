"""One working day of the twin: clinicians do the booked appointments in clock order.

Appointments happen in clock order as the booked clinician (the services check consent,
prerequisites and access as for anyone); a family misses one with the simulator's no-show
probability drawn from its seeded no-show stream; a clinician who called in sick does none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from essence.domain.access import User
from essence.domain.errors import IllegalTransition
from essence.scheduling.clinic_problem import Appointment
from essence.services import steps as step_service
from essence.services.context import ServiceContext, run_use_case
from essence.services.demo import SimulatedClock
from essence.services.ports import UnitOfWork

NoShowProbability = Callable[[str, str], float]


@dataclass
class DayWork:
    """Counts of what happened to booked appointments, summed over the run.

    Attributes:
        done: Appointments held (the step completed).
        no_shows: Family-facing appointments the family missed.
        clinician_sick: Appointments not held because a clinician called in sick.
        not_ready: Appointments not held because a prerequisite was not done in time.
        family_facing: Family-facing appointments that were due (held or missed).
    """

    done: int = 0
    no_shows: int = 0
    clinician_sick: int = 0
    not_ready: int = 0
    family_facing: int = 0


@dataclass
class DayOutcome:
    """What one day's appointments changed: cases whose feedback meeting was held."""

    feedback_held: set[str] = field(default_factory=set)


def do_appointments(
    ctx: ServiceContext,
    clock: SimulatedClock,
    day: date,
    sick: set[str],
    no_show_p: NoShowProbability,
    rng: np.random.Generator,
    work: DayWork,
) -> DayOutcome:
    """Hold today's booked appointments in clock order.

    Args:
        ctx: The twin's context (its clock is `clock`).
        clock: Moved to each appointment's end before it is completed.
        day: Today.
        sick: Clinicians off sick today.
        no_show_p: Probability a family from municipality A misses an appointment in B.
        rng: The simulator's no-show stream (one draw per family-facing appointment due).
        work: Counters to add to.
    """

    def load(uow: UnitOfWork, _user: User) -> tuple[list[Appointment], dict[str, str], str]:
        todays = uow.appointments.list(first_day=day, last_day=day)
        cases = uow.cases.list(ids={a.case_id for a in todays}) if todays else []
        feedback = cases[0].template.feedback_key if cases else ""
        return todays, {c.id: c.municipality for c in cases}, feedback

    todays, homes, feedback_key = run_use_case(ctx.as_system(), "twin.today", load)
    outcome = DayOutcome()
    for appointment in todays:
        if sick.intersection(appointment.clinician_ids):
            work.clinician_sick += 1
            continue
        if appointment.family_facing:
            work.family_facing += 1
            home = homes[appointment.case_id]
            if rng.random() < no_show_p(home, appointment.place.municipality or home):
                clock.now = appointment.start
                try:
                    step_service.record_no_show(
                        ctx.as_user(appointment.clinician_ids[0]),
                        appointment.case_id,
                        appointment.step_key,
                    )
                except IllegalTransition:
                    work.not_ready += 1  # it could not have happened anyway
                    continue
                work.no_shows += 1
                continue
        clock.now = appointment.end
        actor = ctx.as_user(appointment.clinician_ids[0])
        try:
            step_service.complete_step(actor, appointment.case_id, appointment.step_key, "done")
        except IllegalTransition:
            work.not_ready += 1  # nothing written; the next plan books it again
            continue
        work.done += 1
        if appointment.step_key == feedback_key:
            outcome.feedback_held.add(appointment.case_id)
    return outcome
