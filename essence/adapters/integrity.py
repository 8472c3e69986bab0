"""Integrity errors mapped by the constraint that fired, not by guesswork.

PostgreSQL names the constraint, table and kind (SQLSTATE 23xxx); SQLite names the kind and,
for unique, check and not-null constraints, the columns. A SQLite foreign-key failure names
nothing, so the table of the failing statement and its foreign keys in the metadata decide.
Values of personal-data columns never appear in the resulting message.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Table
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from essence.domain.errors import EssenceError, InvalidInput, NotFound

_PERSONAL_COLUMNS = {"personnummer", "child_name", "name", "password_hash"}
_KIND_BY_SQLSTATE = {
    "23505": "unique",
    "23503": "foreign_key",
    "23502": "not_null",
    "23514": "check",
}
_SQLITE_MESSAGE = re.compile(
    r"^(UNIQUE|FOREIGN KEY|NOT NULL|CHECK) constraint failed(?:: (.*))?$", re.IGNORECASE
)
_STATEMENT_TABLE = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.IGNORECASE
)
# What a referenced table is called in messages.
_REFERENCED_KIND = {
    "clinician": "clinician",
    "essence_case": "case",
    "pathway_template": "pathway",
    "app_user": "user",
}


@dataclass(frozen=True)
class Violation:
    """The constraint that fired.

    Attributes:
        kind: ``unique``, ``foreign_key``, ``not_null`` or ``check``.
        table: Table of the failing statement (empty when unknown).
        columns: The columns of the constraint, as far as the database told.
        name: The constraint's name (PostgreSQL, SQLite CHECK), else empty.
    """

    kind: str
    table: str
    columns: tuple[str, ...]
    name: str = ""


def violation_of(error: IntegrityError) -> Violation:
    """Read which constraint fired from the driver's error."""
    orig = error.orig
    if isinstance(orig, sqlite3.IntegrityError):
        return _sqlite_violation(str(orig), error.statement or "")
    diag = getattr(orig, "diag", None)
    kind = _KIND_BY_SQLSTATE.get(getattr(orig, "sqlstate", None) or "", "unknown")
    table = getattr(diag, "table_name", None) or _statement_table(error.statement or "")
    name = getattr(diag, "constraint_name", None) or ""
    column = getattr(diag, "column_name", None)
    columns = (column,) if column else _constraint_columns(table, name)
    return Violation(kind, table, columns, name)


def _sqlite_violation(message: str, statement: str) -> Violation:
    match = _SQLITE_MESSAGE.match(message.strip())
    table = _statement_table(statement)
    if match is None:
        return Violation("unknown", table, ())
    kind = match.group(1).lower().replace(" ", "_")
    detail = match.group(2) or ""
    if kind == "check":
        return Violation(kind, table, _constraint_columns(table, detail), detail)
    if kind == "foreign_key":
        keys = _foreign_keys(table)
        columns = tuple(keys[0].column_keys) if len(keys) == 1 else ()
        name = (keys[0].name or "") if len(keys) == 1 else ""
        return Violation(kind, table, columns, name)
    qualified = [part.strip() for part in detail.split(",") if part.strip()]
    if qualified:
        table = qualified[0].split(".")[0]
    return Violation(kind, table, tuple(q.split(".")[-1] for q in qualified))


def _statement_table(statement: str) -> str:
    match = _STATEMENT_TABLE.match(statement)
    return match.group(1) if match else ""


def _table(name: str) -> Table | None:
    return SQLModel.metadata.tables.get(name)


def _foreign_keys(table_name: str) -> list[ForeignKeyConstraint]:
    table = _table(table_name)
    if table is None:
        return []
    return [c for c in table.constraints if isinstance(c, ForeignKeyConstraint)]


def _constraint_columns(table_name: str, constraint_name: str) -> tuple[str, ...]:
    table = _table(table_name)
    if table is None or not constraint_name:
        return ()
    for constraint in table.constraints:
        if constraint.name == constraint_name:
            return tuple(column.name for column in constraint.columns)
    for key in _foreign_keys(table_name):  # PostgreSQL's default names: table_col_fkey
        if constraint_name == f"{table_name}_{'_'.join(key.column_keys)}_fkey":
            return tuple(key.column_keys)
    return ()


def integrity_error(error: IntegrityError, values: dict[str, Any] | None = None) -> EssenceError:
    """The essence error for a violated constraint, naming the field (and value when it is
    not personal data).

    Args:
        error: The driver's integrity error.
        values: The values written, by column (defaults to the statement's parameters).
    """
    violation = violation_of(error)
    if values is None:
        params = error.params
        values = params if isinstance(params, dict) else {}
    column = violation.columns[0] if len(violation.columns) == 1 else ""
    value = values.get(column, "") if column and column not in _PERSONAL_COLUMNS else ""
    field = ", ".join(violation.columns) or violation.name or violation.table or "record"
    if violation.kind == "foreign_key":
        referenced = _referenced_table(violation)
        kind = _REFERENCED_KIND.get(referenced, referenced or field)
        return NotFound(kind, value if value != "" else f"({field})")
    if violation.kind == "unique":
        return InvalidInput(field, value, "already exists")
    if violation.kind == "not_null":
        return InvalidInput(field, "", "is required")
    if violation.kind == "check":
        return InvalidInput(field, value, f"breaks the rule {violation.name or 'of the table'}")
    return InvalidInput(violation.table or "record", "", "breaks a rule of the database")


def _referenced_table(violation: Violation) -> str:
    for key in _foreign_keys(violation.table):
        if tuple(key.column_keys) == violation.columns or key.name == violation.name:
            return key.elements[0].column.table.name
    return ""
