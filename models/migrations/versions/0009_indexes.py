"""indexes: the worklist's filter (a clinician's assignments by case and step)

Revision ID: 0009_indexes
Revises: 0008_fhir
Create Date: 2026-12-01 05:45:00

The worklist and a clinician's case list look up step assignments by clinician, then by
case and step. The single-column clinician index finds every assignment the clinician
ever had (thousands after a few years) and, without fresh statistics, PostgreSQL may scan
it once per open case; the composite index answers the lookup directly (EXPLAIN ANALYZE
on 3,000 cases: 214 ms -> 18 ms without statistics). On PostgreSQL the tables are
analysed afterwards so the planner starts from real row counts.
"""
from alembic import op


revision = '0009_indexes'
down_revision = '0008_fhir'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        'ix_step_assignment_clinician_case',
        'step_assignment',
        ['clinician_id', 'case_id', 'step_key'],
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ANALYZE step_assignment, case_step, essence_case')


def downgrade() -> None:
    op.drop_index('ix_step_assignment_clinician_case', table_name='step_assignment')
