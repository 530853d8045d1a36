"""session epochs and parked emails

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 20:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy): SQLite cannot drop and re-create user_account while
    # other tables' foreign keys point at it.
    op.add_column('user_account', sa.Column('session_epoch', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.add_column('notification', sa.Column('email_error', sa.String(length=500), nullable=True))
    op.add_column('sip_credential', sa.Column('email_error', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('sip_credential', schema=None) as batch_op:
        batch_op.drop_column('email_error')

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('email_error')

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
