"""family needs: a row per case (blocked days, interpreter, site, video); clinician hours

Revision ID: 0005_family_needs
Revises: 0004_lifecycle
Create Date: 2026-12-01 05:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_family_needs'
down_revision = '0004_lifecycle'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_family_needs',
        sa.Column('case_id', sa.String(length=20), nullable=False),
        sa.Column('blocked_weekdays', sa.String(length=40), nullable=False),
        sa.Column('blocked_dates', sa.String(length=2000), nullable=False),
        sa.Column('interpreter_language', sa.String(length=40), nullable=False),
        sa.Column('interpreter_minutes', sa.Integer(), nullable=False),
        sa.Column('preferred_site', sa.String(length=40), nullable=False),
        sa.Column('video_preferred', sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            'interpreter_minutes >= 0 AND interpreter_minutes <= 120',
            name='ck_family_needs_interpreter_minutes',
        ),
        sa.CheckConstraint(
            "interpreter_minutes = 0 OR interpreter_language <> ''",
            name='ck_family_needs_interpreter_language',
        ),
        sa.ForeignKeyConstraint(['case_id'], ['essence_case.id']),
        sa.PrimaryKeyConstraint('case_id'),
    )
    with op.batch_alter_table('clinician', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('hours', sa.String(length=200), nullable=False, server_default='')
        )


def downgrade() -> None:
    with op.batch_alter_table('clinician', schema=None) as batch_op:
        batch_op.drop_column('hours')
    op.drop_table('case_family_needs')
