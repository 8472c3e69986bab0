"""Two clinicians completing steps of one case at the same moment: nothing is lost."""

from __future__ import annotations

import threading

import pytest

from essence.adapters.unit_of_work import SqlUnitOfWork
from essence.domain.calendar import at_local
from essence.domain.errors import ConcurrencyConflict
from essence.services import cases, reporting, steps
from essence.services.context import ServiceContext
from tests.factories import referral

PARALLEL_STEPS = ("bhv_records", "medical_exam", "language_assessment", "motor_assessment")


def _case_after_intake(ctx: ServiceContext) -> tuple[str, dict[str, str]]:
    view = cases.open_case(ctx, referral())
    steps.complete_step(ctx, view.id, "intake")
    shown = cases.show_case(ctx, view.id)
    owners = {
        s.key: next(iter(s.assignees.values())) for s in shown.steps if s.key in PARALLEL_STEPS
    }
    return view.id, owners


def test_a_stale_save_is_a_conflict_not_a_lost_update(app_context: ServiceContext) -> None:
    case_id, _ = _case_after_intake(app_context)
    engine_uow = app_context.uow_factory
    with engine_uow() as first, engine_uow() as second:
        a, b = first.cases.get(case_id), second.cases.get(case_id)
        a.complete_step("bhv_records", at_local(a.referral_date), "bhv-1")
        first.cases.save(a)
        first.commit()
        b.complete_step("motor_assessment", at_local(b.referral_date), "pt-1")
        with pytest.raises(ConcurrencyConflict):
            second.cases.save(b)
            second.commit()
    shown = cases.show_case(app_context, case_id)
    assert {s.key: s.state for s in shown.steps}["bhv_records"] == "completed"
    assert isinstance(first, SqlUnitOfWork)


def test_parallel_writers_all_succeed_and_nothing_is_lost(app_context: ServiceContext) -> None:
    case_id, owners = _case_after_intake(app_context)
    barrier = threading.Barrier(len(PARALLEL_STEPS))
    errors: list[BaseException] = []

    def complete(step_key: str) -> None:
        try:
            barrier.wait()
            steps.complete_step(app_context.as_user(owners[step_key]), case_id, step_key, "done")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=complete, args=(key,)) for key in PARALLEL_STEPS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    shown = cases.show_case(app_context, case_id)
    states = {s.key: s.state for s in shown.steps}
    assert all(states[key] == "completed" for key in PARALLEL_STEPS)
    actions = [line.action for line in reporting.audit_extract(app_context, case_id)]
    assert actions.count("step.complete") == 1 + len(PARALLEL_STEPS)
