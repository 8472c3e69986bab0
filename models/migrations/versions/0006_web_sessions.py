"""web sessions: signed-in sessions, each login's language, and background runs

Revision ID: 0006_web_sessions
Revises: 0004_lifecycle
Create Date: 2026-12-01 05:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.types


revision = '0006_web_sessions'
down_revision = '0004_lifecycle'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_session',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('csrf', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', models.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', models.types.AwareDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('seen_at >= created_at', name='ck_web_session_seen'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_user_id'), ['user_id'], unique=False)
    op.create_table('web_preference',
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.CheckConstraint("language IN ('sv', 'en')", name='ck_web_preference_lang'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('web_run',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('started_at', models.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('finished', sa.Boolean(), nullable=False),
    sa.CheckConstraint('done >= 0 AND total >= 1 AND done <= total', name='ck_web_run_progress'),
    sa.CheckConstraint("kind IN ('capacity', 'replan')", name='ck_web_run_kind'),
    sa.ForeignKeyConstraint(['owner'], ['app_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('web_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_run_owner'), ['owner'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_run_owner'))
    op.drop_table('web_run')
    op.drop_table('web_preference')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_user_id'))
    op.drop_table('web_session')
