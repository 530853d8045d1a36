"""Addresses refused signing in for a while, read with the bearer token by every web process

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 23:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sign_in_refusal',
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('until', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('address', name=op.f('pk_sign_in_refusal')),
    )


def downgrade():
    op.drop_table('sign_in_refusal')
