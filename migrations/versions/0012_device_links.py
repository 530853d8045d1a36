"""One-time device setup links (remote provisioning of phone apps and desk phones)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-12 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('device_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=12), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('used_by_agent', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['credential_id'], ['sip_credential.id'], name=op.f('fk_device_link_credential_id_sip_credential')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['user_account.id'], name=op.f('fk_device_link_issued_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_link')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_device_link_token_digest'))
    )
    with op.batch_alter_table('device_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_link_credential_id'), ['credential_id'], unique=False)


def downgrade():
    with op.batch_alter_table('device_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_link_credential_id'))

    op.drop_table('device_link')
