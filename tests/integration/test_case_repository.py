"""The case repository writes exactly what changed, every changeable column, and nothing else."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from essence import bootstrap
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


@pytest.mark.parametrize(
    ("column", "value", "constraint"),
    [("state", "lost", "ck_case_state"), ("guardians", 3, "ck_case_guardians")],
)
def test_the_database_refuses_a_case_state_or_guardian_count_it_does_not_know(
    app_context: ServiceContext, database_url: str, column: str, value: object, constraint: str
) -> None:
    case_id = cases.open_case(app_context, referral()).id
    engine = bootstrap.engine_for(database_url)
    with pytest.raises(IntegrityError) as updated, engine.begin() as connection:
        connection.execute(
            text(f"UPDATE essence_case SET {column} = :value WHERE id = :id"),
            {"value": value, "id": case_id},
        )
    assert constraint in str(updated.value.orig)
    with pytest.raises(IntegrityError) as inserted, engine.begin() as connection:
        row = dict(
            connection.execute(text("SELECT * FROM essence_case WHERE id = :id"), {"id": case_id})
            .mappings()
            .one()
        )
        row.update({"id": "c-probe", "personnummer": "000000000000", column: value})
        names = ", ".join(row)
        connection.execute(
            text(f"INSERT INTO essence_case ({names}) VALUES ({', '.join(':' + n for n in row)})"),
            row,
        )
    assert constraint in str(inserted.value.orig)
    with app_context.uow_factory() as uow:
        assert uow.cases.get(case_id).version == 1
