"""A reassigned step keeps its booking only when the new clinician can take it as it is:
the stored bookings keep every rule of the plan checker after any reassignment (the first
release moved a booking onto a clinician whose day it overfilled, and the next plan then
took an unrelated step out)."""

from __future__ import annotations

from essence.scheduling.booked import booked_plan
from essence.scheduling.clinic_check import check_plan
from essence.services import cases, scheduling, steps
from essence.services.context import ServiceContext
from tests.factories import referral


def _findings(ctx: ServiceContext) -> list[str]:
    """What the plan checker finds in the stored bookings, except prerequisites: a
    released booking leaves the steps after it booked until the next plan."""
    snapshot = scheduling.read_snapshot(ctx)

    def stored(uow, _user):  # type: ignore[no-untyped-def]
        return uow.appointments.list()

    found = cases.run_use_case(ctx, "test.bookings", stored)
    plan = booked_plan(found, {}, ctx.clock().date())
    findings = check_plan(plan, snapshot.inputs, snapshot.team)
    return [str(f) for f in findings if f.rule != "prerequisite"]


def test_every_reassignment_leaves_bookings_that_keep_the_rules(
    app_context: ServiceContext,
) -> None:
    ids = [cases.open_case(app_context, referral()).id for _ in range(3)]
    steps.complete_step(app_context, ids[0], "intake", "held")
    scheduling.plan_schedule(app_context, use_cpsat=False)
    assert _findings(app_context) == []
    team = scheduling.read_snapshot(app_context).team
    outcomes = {"moved": 0, "released": 0}
    for case_id in ids:
        for booked in scheduling.show_schedule(app_context, case_id=case_id):
            if len(booked.clinicians) != 1:
                continue
            current = booked.clinicians[0]
            profession = next(c.profession for c in team if c.id == current)
            for other in [c.id for c in team if c.profession is profession and c.id != current]:
                cases.assign_step(app_context, case_id, booked.step_key, other)
                now = [a for a in scheduling.show_schedule(app_context, case_id=case_id)
                       if a.step_key == booked.step_key]  # fmt: skip
                outcomes["moved" if now else "released"] += 1
                assert _findings(app_context) == [], (booked.step_key, other)
                if not now:
                    break
    assert outcomes["moved"] and outcomes["released"], outcomes
    again = scheduling.plan_schedule(app_context, use_cpsat=False)
    assert not [u for u in again.not_scheduled_yet if "[" in u["reason"]], "no rule broken"
