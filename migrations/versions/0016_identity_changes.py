"""Tell the web processes when an identity changes: NOTIFY agentdesk_identities

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 08:00:00.000000

PostgreSQL only (SQLite has no NOTIFY; there every API call reads its identity). A web
process remembers whom each bearer token belongs to, and forgets it all when a user, an API
token, an approver's branches or a sign-in refusal changes: these triggers notify it when such
a change commits, whoever makes it (the pages, the API, the command line or plain SQL).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

#: The channel web processes LISTEN on (web/bearer_identities.py names it too).
CHANNEL = 'agentdesk_identities'
TABLES = ('user_account', 'api_token', 'approver_branch', 'sign_in_refusal')


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(f"""
        CREATE FUNCTION agentdesk_identities_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END $$
    """)
    for table in TABLES:
        # Once per statement: notifications of one transaction fold into one anyway.
        op.execute(f"""
            CREATE TRIGGER {table}_changed_tells_web
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION agentdesk_identities_changed()
        """)


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_changed_tells_web ON {table}")
    op.execute("DROP FUNCTION IF EXISTS agentdesk_identities_changed()")
