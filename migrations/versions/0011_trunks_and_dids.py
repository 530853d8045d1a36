"""Trunks towards carriers, and hotlines that ring an extension (DIDs)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('trunk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=45), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('transport', sa.String(length=3), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('number_format', sa.String(length=8), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('auth_username', sa.String(length=64), nullable=True),
    sa.Column('auth_password_sealed', sa.String(length=500), nullable=True),
    sa.Column('auth_realm', sa.String(length=100), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trunk')),
    sa.UniqueConstraint('name', name=op.f('uq_trunk_name'))
    )
    # Plain ADD COLUMN (no batch copy): existing hotlines ring nothing until an admin says so.
    op.add_column('hotline', sa.Column('extension', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('hotline', schema=None) as batch_op:
        batch_op.drop_column('extension')
    op.drop_table('trunk')
