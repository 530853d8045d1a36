"""Vietnamese name search and order: folded and sort-key columns of employee

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 21:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

from workflow.names import fold, name_key

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SORT_KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade():
    # Plain ADD COLUMN (no batch copy): other tables' foreign keys point at employee.
    op.add_column('employee', sa.Column('search_name', sa.String(length=400), server_default=sa.text("''"), nullable=False))
    op.add_column('employee', sa.Column('sort_name', SORT_KEY, server_default=sa.text("''"), nullable=False))
    # Backfill with the very functions the model uses on every write.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, full_name FROM employee")).all()
    for start in range(0, len(rows), 5000):
        bind.execute(
            sa.text("UPDATE employee SET search_name = :search, sort_name = :sort WHERE id = :id"),
            [{"id": row.id, "search": fold(row.full_name), "sort": name_key(row.full_name)}
             for row in rows[start:start + 5000]])
    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.create_index('ix_employee_sort_name', ['sort_name'], unique=False)
        batch_op.create_index('ix_employee_search_name_trgm', ['search_name'], unique=False, postgresql_using='gin', postgresql_ops={'search_name': 'gin_trgm_ops'})
        batch_op.drop_index('ix_employee_full_name_trgm', postgresql_using='gin', postgresql_ops={'full_name': 'gin_trgm_ops'})


def downgrade():
    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.create_index('ix_employee_full_name_trgm', ['full_name'], unique=False, postgresql_using='gin', postgresql_ops={'full_name': 'gin_trgm_ops'})
        batch_op.drop_index('ix_employee_search_name_trgm', postgresql_using='gin', postgresql_ops={'search_name': 'gin_trgm_ops'})
        batch_op.drop_index('ix_employee_sort_name')
    # DROP COLUMN in place (SQLite 3.35+), for the same reason as above.
    op.drop_column('employee', 'sort_name')
    op.drop_column('employee', 'search_name')
