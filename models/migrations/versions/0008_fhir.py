"""fhir: the origin of referrals imported from the region (ServiceRequest, guardians)

Revision ID: 0008_fhir
Revises: 0007_ops
Create Date: 2026-12-01 05:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.types


revision = '0008_fhir'
down_revision = '0007_ops'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('referral_origin',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('request_system', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('request_value', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('requester', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('requester_identifier', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('authored_at', models.types.AwareDateTime(timezone=True), nullable=False),
    sa.Column('guardians', sa.Text(), nullable=False),
    sa.Column('consenting', sa.Integer(), nullable=False),
    sa.Column('imported_at', models.types.AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['essence_case.id'], ),
    sa.PrimaryKeyConstraint('case_id'),
    sa.UniqueConstraint('request_system', 'request_value', name='uq_referral_origin_request')
    )


def downgrade() -> None:
    op.drop_table('referral_origin')
