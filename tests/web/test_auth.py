"""Password use cases and the 0003 migration, on SQLite and PostgreSQL.

Only argon2 hashes are stored; every sign-in is audited; wrong answers do not reveal which
logins exist.
"""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from essence import bootstrap
from essence.domain.access import Role
from essence.domain.errors import InvalidInput, PermissionDenied
from essence.services import auth
from essence.services.context import ServiceContext
from tests.factories import migrate


def test_demo_passwords_are_issued_once_and_only_hashes_are_stored(
    app_context: ServiceContext,
) -> None:
    issued = auth.issue_demo_passwords(app_context)
    assert {"admin", "coord-1", "psy-1", "planner-1"} <= set(issued)
    assert len(set(issued.values())) == len(issued)
    assert auth.issue_demo_passwords(app_context) == {}, "existing passwords are kept"
    with app_context.uow_factory() as uow:
        stored = uow.users.password_hash("psy-1")
    assert stored is not None and stored.startswith("$argon2id$")
    assert issued["psy-1"] not in stored
    user = auth.authenticate(app_context, "psy-1", issued["psy-1"])
    assert (user.id, user.role, user.clinician_id) == ("psy-1", Role.CLINICIAN, "psy-1")


def test_wrong_password_unknown_login_and_no_password_all_answer_the_same(
    app_context: ServiceContext,
) -> None:
    auth.set_password(app_context, "coord-1", "correct horse battery")
    messages = set()
    for user_id, password in (
        ("coord-1", "wrong password!"),
        ("nobody-here", "whatever-it-is"),
        ("psy-1", "no password set"),
    ):
        with pytest.raises(PermissionDenied) as refused:
            auth.authenticate(app_context, user_id, password)
        messages.add(str(refused.value))
    assert len(messages) == 1
    assert auth.authenticate(app_context, "coord-1", "correct horse battery").id == "coord-1"


def test_only_admins_set_other_peoples_passwords(app_context: ServiceContext) -> None:
    auth.set_password(app_context, "coord-1", "my own new password")
    with pytest.raises(PermissionDenied):
        auth.set_password(app_context, "psy-1", "not yours to set")
    auth.set_password(app_context.as_user("admin"), "psy-1", "set by the admin")
    assert auth.authenticate(app_context, "psy-1", "set by the admin").id == "psy-1"


def test_short_passwords_are_refused_without_echoing_them(app_context: ServiceContext) -> None:
    with pytest.raises(InvalidInput) as refused:
        auth.set_password(app_context, "coord-1", "short1")
    assert refused.value.field == "password"
    assert "short1" not in str(refused.value)


def test_migration_0003_goes_down_and_up_again(database_url: str) -> None:
    bootstrap.initialise(database_url=database_url)
    engine = bootstrap.engine_for(database_url)

    def columns() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("app_user")}

    assert "password_hash" in columns()
    for target, expected in (("0002", False), ("head", True)):
        migrate(database_url, target)
        assert ("password_hash" in columns()) is expected
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM app_user")).scalar_one() >= 1
