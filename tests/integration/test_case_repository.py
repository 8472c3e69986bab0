"""The case repository writes exactly what changed, every changeable column, and nothing else."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from essence.adapters import mapping
from essence.domain.calendar import at_local
from essence.domain.case import Step
from essence.domain.states import CaseState, StepState
from essence.services import cases
from essence.services.context import ServiceContext
from models.case import CaseRecord, StepRecord
from tests.factories import referral


def test_the_prepared_updates_cover_every_changeable_column() -> None:
    step_fields = {f.name for f in dataclasses.fields(Step)} - {"key", "assignees"}
    assert set(mapping.STEP_COLUMNS) == step_fields
    assert set(StepRecord.__table__.columns.keys()) - {"case_id", "key"} == step_fields
    assert set(mapping.step_columns(Step(key="x"))) == step_fields
    case_table = set(CaseRecord.__table__.columns.keys())
    fixed = {"id", "personnummer", "referral_date", "template_id", "opened_at", "version"}
    assert set(mapping.CASE_COLUMNS) == case_table - fixed


def test_every_changed_column_of_a_case_and_its_steps_is_saved(
    app_context: ServiceContext,
) -> None:
    case_id = cases.open_case(app_context, referral()).id
    with app_context.uow_factory() as uow:
        case = uow.cases.get(case_id)
        assert set(mapping.case_columns(case)) == set(mapping.CASE_COLUMNS)
        moment = at_local(case.referral_date + timedelta(days=3), 10)
        case.child_name = "Testa Ändradsson"
        case.referring_unit = "BVC Påhittad"
        case.team_travels = not case.team_travels
        case.withdrawn_reason = "ändrat i test"
        for step in list(case.steps.values())[:2]:
            step.state = StepState.ON_HOLD
            step.resume_state = StepState.READY
            step.ready_on = case.referral_date + timedelta(days=1)
            step.due_on = case.referral_date + timedelta(days=30)
            step.planned_on = case.referral_date + timedelta(days=5)
            step.planned_place = "Skellefteå"
            step.started_at = moment
            step.hold_reason = "väntar på tolk"
            step.needs_review = True
            step.no_shows = 2
        expected_case = mapping.case_columns(case)
        expected_steps = {k: mapping.step_columns(s) for k, s in case.steps.items()}
        version = case.version
        uow.cases.save(case)
        uow.commit()
    with app_context.uow_factory() as uow:
        again = uow.cases.get(case_id)
    assert again.version == version + 1
    assert mapping.case_columns(again) == expected_case
    assert {k: mapping.step_columns(s) for k, s in again.steps.items()} == expected_steps
    assert again.state is CaseState(expected_case["state"])


def test_an_unchanged_case_keeps_its_version(app_context: ServiceContext) -> None:
    case_id = cases.open_case(app_context, referral()).id
    with app_context.uow_factory() as uow:
        case = uow.cases.get(case_id)
        version = case.version
        uow.cases.save(case)
        uow.commit()
    with app_context.uow_factory() as uow:
        assert uow.cases.get(case_id).version == version
