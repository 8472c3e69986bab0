"""The 0009 index migration on SQLite and PostgreSQL: up, down and up again, data kept."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from essence import bootstrap
from essence.adapters.migrations import alembic_config

INDEX = "ix_step_assignment_clinician_case"


def test_worklist_index_goes_down_and_up_again(database_url: str) -> None:
    bootstrap.initialise(database_url=database_url, demo_team=True)
    engine = bootstrap.engine_for(database_url)

    def indexes() -> dict[str, list[str]]:
        found = inspect(engine).get_indexes("step_assignment")
        return {i["name"]: list(i["column_names"]) for i in found}  # type: ignore[misc]

    assert indexes()[INDEX] == ["clinician_id", "case_id", "step_key"]
    for target, expected in (("0003", False), ("head", True)):
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            if target == "head":
                command.upgrade(config, target)
            else:
                command.downgrade(config, target)
        assert (INDEX in indexes()) is expected
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM clinician")).scalar_one() >= 1
