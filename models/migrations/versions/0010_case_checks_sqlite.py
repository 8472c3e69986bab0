"""case checks on SQLite: a case's state and its number of guardians, enforced by triggers

Revision ID: 0010_case_checks_sqlite
Revises: 0009_indexes
Create Date: 2026-12-02 17:45:00

PostgreSQL has had the CHECK constraints ``ck_case_state`` and ``ck_case_guardians`` on
``essence_case`` since 0004. SQLite cannot add a CHECK constraint to an existing table
without copying it, and copying ``essence_case`` would drop the rows that reference it, so
on SQLite the same two rules are triggers that abort an INSERT or UPDATE breaking them with
SQLite's own message (``CHECK constraint failed: <name>``), which essence maps like any
other check. Nothing changes on PostgreSQL.
"""
from alembic import op


revision = '0010_case_checks_sqlite'
down_revision = '0009_indexes'
branch_labels = None
depends_on = None

CASE_STATES = (
    "'referred', 'consented', 'assessing', 'feedback-given', 'closed', 'withdrawn', 'paused'"
)
RULES = {
    'ck_case_state': f'NEW.state NOT IN ({CASE_STATES})',
    'ck_case_guardians': 'NEW.guardians NOT IN (1, 2)',
}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade() -> None:
    if not _sqlite():
        return
    for name, broken in RULES.items():
        for event in ('INSERT', 'UPDATE'):
            op.execute(
                f'CREATE TRIGGER {name}_{event.lower()} BEFORE {event} ON essence_case '
                f'FOR EACH ROW WHEN {broken} '
                f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END"
            )


def downgrade() -> None:
    if not _sqlite():
        return
    for name in RULES:
        for event in ('insert', 'update'):
            op.execute(f'DROP TRIGGER IF EXISTS {name}_{event}')
