"""ops: the request id on every audit row (joins the audit log to the application log)

Revision ID: 0007_ops
Revises: 0006_web_sessions
Create Date: 2026-12-01 05:00:00

The audit table stays append-only: the column is added and dropped with plain ALTER TABLE
(no table copy), so the triggers that refuse UPDATE and DELETE stay in place on SQLite and
PostgreSQL alike.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_ops'
down_revision = '0006_web_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('audit_event', sa.Column('request_id', sa.String(length=32), nullable=True))
    op.create_index('ix_audit_event_request_id', 'audit_event', ['request_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_event_request_id', table_name='audit_event')
    # SQLite ≥ 3.35 drops a column in place; the append-only triggers survive.
    op.execute('ALTER TABLE audit_event DROP COLUMN request_id')
