"""Superseded notices: a later notice of a ticket retires the earlier unread or unsent ones

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 23:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy): existing notices stay as they are, none superseded.
    op.add_column('notification', sa.Column('superseded_at', sa.DateTime(), nullable=True))
    op.create_index('ix_notification_ticket_user', 'notification', ['ticket_id', 'user_id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_notification_ticket_user', table_name='notification')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('superseded_at')
