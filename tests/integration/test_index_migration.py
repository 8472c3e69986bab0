"""The 0009 index migration on SQLite and PostgreSQL: up, down and up again, data kept."""

from __future__ import annotations

from sqlalchemy import inspect, text

from essence import bootstrap
from tests.factories import migrate

INDEX = "ix_step_assignment_clinician_case"


def test_worklist_index_goes_down_and_up_again(database_url: str) -> None:
    bootstrap.initialise(database_url=database_url, demo_team=True)
    engine = bootstrap.engine_for(database_url)

    def indexes() -> dict[str, list[str]]:
        found = inspect(engine).get_indexes("step_assignment")
        return {i["name"]: list(i["column_names"]) for i in found}  # type: ignore[misc]

    assert indexes()[INDEX] == ["clinician_id", "case_id", "step_key"]
    for target, expected in (("0003", False), ("head", True)):
        migrate(database_url, target)
        assert (INDEX in indexes()) is expected
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM clinician")).scalar_one() >= 1
