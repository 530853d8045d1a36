"""Bearer identities remembered per web process: read once, forgotten when PostgreSQL tells of a
change to users, tokens, approver branches or sign-in refusals, never remembered without that
news (SQLite, a broken connection), and never for a wrong token or a refused address."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from flask import Flask
from sqlalchemy import update

from tasks.wakeups import listen_url
from tests.support.apps import PG_ADMIN_URL
from tests.support.world import World, make_world
from web.bearer_identities import CHANNEL, RETRY_SECONDS, BearerIdentities
from web.extensions import db
from workflow.domain.rules import Actor, Role
from workflow.models import ApiToken
from workflow.people.accounts import Identity, change_access, create_token
from workflow.people.refusals import SignInRefused, refuse_address

ADDRESS = "203.0.113.5"
#: How long a test waits for PostgreSQL's notification to reach the listening connection.
HEARD_WITHIN = 10.0


@pytest.fixture
def pg_world(pg_only_app: Flask) -> World:
    """The small organisation, on PostgreSQL only."""
    return make_world()


SOMEONE = Identity(Actor(1, Role.REQUESTER, False, frozenset()), "vi", "someone@example.vn")


class Reads:
    """A stand-in for the database read: counts its calls and answers `answer`."""

    def __init__(self, answer: Identity | None = SOMEONE) -> None:
        self.count = 0
        self.answer = answer

    def __call__(self) -> Identity | None:
        self.count += 1
        return self.answer


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pg_url(app: Flask) -> str:
    """The libpq URL the app's web processes listen on."""
    url = listen_url(app.config["SQLALCHEMY_DATABASE_URI"])
    assert url is not None
    return url


def read_again_once_heard(identities: BearerIdentities, reads: Reads, token: str = "t") -> None:
    """Ask for `token` until the change committed before is heard (a new read), or fail."""
    before = reads.count
    deadline = time.monotonic() + HEARD_WITHIN
    while reads.count == before:
        assert time.monotonic() < deadline, "the committed change was never heard"
        identities.identity(token, ADDRESS, reads)
        time.sleep(0.005)


def test_an_identity_is_read_once_while_nothing_changes(pg_only_app: Flask) -> None:
    identities, reads = BearerIdentities(pg_url(pg_only_app), 30), Reads()
    first = identities.identity("t", ADDRESS, reads)
    assert [identities.identity("t", ADDRESS, reads) for _ in range(5)] == [first] * 5
    assert reads.count == 1 and identities.listening
    identities.identity("t", "203.0.113.6", reads)  # the same token from elsewhere: its own
    identities.identity("other", ADDRESS, reads)
    assert reads.count == 3
    identities.close()


@pytest.mark.parametrize("change", ["deactivate", "branches", "token", "refusal", "sql"])
def test_a_committed_change_to_who_may_call_is_heard_and_everything_read_again(
    pg_only_app: Flask, pg_world: World, change: str
) -> None:
    identities, reads = BearerIdentities(pg_url(pg_only_app), 30), Reads()
    identities.identity("t", ADDRESS, reads)
    identities.identity("u", ADDRESS, reads)
    assert reads.count == 2
    if change == "deactivate":
        change_access(db.session, pg_world.approver_id, Role.APPROVER, [], active=False,
                      actor_id=pg_world.admin_id)
    elif change == "branches":
        change_access(db.session, pg_world.approver_id, Role.APPROVER, [pg_world.branch_ids[1]],
                      active=True, actor_id=pg_world.admin_id)
    elif change == "token":
        create_token(db.session, pg_world.emails["requester"])
    elif change == "refusal":
        refuse_address(db.session, ADDRESS, datetime.now(UTC) + timedelta(minutes=5))
    else:  # whoever writes, even by hand
        with psycopg.connect(pg_url(pg_only_app), autocommit=True) as connection:
            connection.execute("DELETE FROM api_token")
    read_again_once_heard(identities, reads)
    identities.identity("u", ADDRESS, reads)  # forgotten too
    assert reads.count == 4
    identities.close()


def test_other_writes_are_not_news(pg_only_app: Flask, pg_world: World) -> None:
    identities, reads = BearerIdentities(pg_url(pg_only_app), 30), Reads()
    identities.identity("t", ADDRESS, reads)
    with psycopg.connect(pg_url(pg_only_app), autocommit=True) as connection:
        connection.execute("UPDATE employee SET full_name = full_name || ' '")
        connection.execute(f"NOTIFY {CHANNEL}")  # a marker: heard once what came before is
    read_again_once_heard(identities, reads)
    assert reads.count == 2  # the marker, not the employee, made the one new read
    identities.close()


def test_a_wrong_token_and_a_refused_address_are_read_every_time(pg_only_app: Flask) -> None:
    identities, wrong = BearerIdentities(pg_url(pg_only_app), 30), Reads(answer=None)
    for _ in range(3):
        assert identities.identity("wrong", ADDRESS, wrong) is None
    assert wrong.count == 3
    refusals = 0

    def refused() -> Identity | None:
        nonlocal refusals
        refusals += 1
        raise SignInRefused(datetime.now(UTC) + timedelta(minutes=1))

    for _ in range(3):
        with pytest.raises(SignInRefused):
            identities.identity("t", ADDRESS, refused)
    assert refusals == 3
    identities.close()


def test_without_postgresql_or_with_no_time_to_keep_nothing_is_remembered(
    pg_only_app: Flask
) -> None:
    for identities in (BearerIdentities(None, 30), BearerIdentities(pg_url(pg_only_app), 0)):
        reads = Reads()
        for _ in range(3):
            identities.identity("t", ADDRESS, reads)
        assert reads.count == 3 and not identities.listening


def test_an_identity_is_read_again_once_its_time_is_up(pg_only_app: Flask) -> None:
    clock = Clock()
    identities, reads = BearerIdentities(pg_url(pg_only_app), 30, clock=clock), Reads()
    identities.identity("t", ADDRESS, reads)
    clock.now += 29.9
    identities.identity("t", ADDRESS, reads)
    assert reads.count == 1
    clock.now += 0.2
    identities.identity("t", ADDRESS, reads)
    assert reads.count == 2
    identities.close()


def listeners(url: str) -> list[int]:
    """The server pids of the connections listening for identity changes."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        return [pid for (pid,) in admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND query = %s",
            (psycopg.conninfo.conninfo_to_dict(url)["dbname"], f"LISTEN {CHANNEL}"))]


def test_a_broken_connection_stops_remembering_until_listening_again(
    pg_only_app: Flask
) -> None:
    clock = Clock()
    url = pg_url(pg_only_app)
    identities, reads = BearerIdentities(url, 30, clock=clock), Reads()
    before = set(listeners(url))
    identities.identity("t", ADDRESS, reads)
    (pid,) = set(listeners(url)) - before
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    deadline = time.monotonic() + HEARD_WITHIN
    while identities.listening:  # the break is noticed at the next use
        assert time.monotonic() < deadline, "the broken connection was never noticed"
        identities.identity("t", ADDRESS, reads)
        time.sleep(0.005)
    count = reads.count
    for _ in range(3):
        identities.identity("t", ADDRESS, reads)
    assert reads.count == count + 3  # not listening: read every time, not even retried yet
    clock.now += RETRY_SECONDS
    identities.identity("t", ADDRESS, reads)
    identities.identity("t", ADDRESS, reads)
    assert identities.listening and reads.count == count + 4
    identities.close()
    assert set(listeners(url)) == before


def test_a_read_that_overlapped_a_change_is_not_remembered(
    pg_only_app: Flask, pg_world: World
) -> None:
    identities, reads = BearerIdentities(pg_url(pg_only_app), 30), Reads()
    identities.identity("other", ADDRESS, reads)  # listening now

    def read_while_the_token_is_deleted() -> Identity | None:
        # Read first, then another request hears the change before this one keeps its answer.
        answer = reads()
        db.session.execute(update(ApiToken).values(user_id=ApiToken.user_id))
        db.session.commit()
        read_again_once_heard(identities, reads, "other")
        return answer

    identities.identity("t", ADDRESS, read_while_the_token_is_deleted)
    count = reads.count
    identities.identity("t", ADDRESS, reads)
    assert reads.count == count + 1
    identities.close()


def api_status(app: Flask, token: str, address: str = ADDRESS) -> int:
    """GET /api/v1/tickets with `token`; the status."""
    return app.test_client().get("/api/v1/tickets", headers={
        "Authorization": f"Bearer {token}"}, environ_base={"REMOTE_ADDR": address}).status_code


def eventually(check: Callable[[], bool]) -> None:
    """Wait until `check()` holds (the news may take a moment to arrive), or fail."""
    deadline = time.monotonic() + HEARD_WITHIN
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_a_deactivated_callers_token_is_refused_in_a_process_that_remembered_it(
    app: Flask, world: World
) -> None:
    token = create_token(db.session, world.emails["approver"])
    assert api_status(app, token) == 200
    assert api_status(app, token) == 200
    change_access(db.session, world.approver_id, Role.APPROVER, [], active=False,
                  actor_id=world.admin_id)
    eventually(lambda: api_status(app, token) == 401)
    change_access(db.session, world.approver_id, Role.APPROVER, [], active=True,
                  actor_id=world.admin_id)
    eventually(lambda: api_status(app, token) == 200)
