"""Wake the relay on commit: NOTIFY agentdesk_relay when notices or password letters are due

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 09:00:00.000000

PostgreSQL only (SQLite has no NOTIFY; its relay polls). Triggers, so that no writer can
forget: a notice or a SIP password inserted, or a parked email released, notifies the relay
when its transaction commits (NOTIFY is transactional, and duplicates in one transaction
fold into one).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

#: The channel the relay LISTENs on (tasks/wakeups.py names it too).
CHANNEL = 'agentdesk_relay'
TABLES = ('notification', 'sip_credential')


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    # A statement that inserted no row (INSERT ... SELECT finding no audience) wakes nobody.
    op.execute(f"""
        CREATE FUNCTION agentdesk_relay_wake_on_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM inserted) THEN
                PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute(f"""
        CREATE FUNCTION agentdesk_relay_wake() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END $$
    """)
    for table in TABLES:
        op.execute(f"""
            CREATE TRIGGER {table}_inserted_wakes_relay AFTER INSERT ON {table}
            REFERENCING NEW TABLE AS inserted
            FOR EACH STATEMENT EXECUTE FUNCTION agentdesk_relay_wake_on_insert()
        """)
        # An admin releasing a parked email; the relay's own writes (claims, records,
        # freeing claims after a failed send) never match, so it never wakes itself.
        op.execute(f"""
            CREATE TRIGGER {table}_released_wakes_relay AFTER UPDATE OF email_error ON {table}
            FOR EACH ROW
            WHEN (OLD.email_error IS NOT NULL AND NEW.email_error IS NULL)
            EXECUTE FUNCTION agentdesk_relay_wake()
        """)


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_released_wakes_relay ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_inserted_wakes_relay ON {table}")
    op.execute("DROP FUNCTION IF EXISTS agentdesk_relay_wake()")
    op.execute("DROP FUNCTION IF EXISTS agentdesk_relay_wake_on_insert()")
