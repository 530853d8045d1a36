"""The shipped Kamailio configuration as a registrar: digest auth against hashes only."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest

from tests.support.pbx import Kamailio
from tests.support.sip import Phone, md5
from workflow.ports import PhoneSystemError


@pytest.fixture
def subscriber(kamailio: Kamailio) -> Iterator[tuple[str, str]]:
    """A subscriber stored as Kamailio's auth_db reads it: ha1 and ha1b, no password."""
    username, password = "ag" + secrets.token_hex(4), secrets.token_urlsafe(12)
    realm = kamailio.domain
    with psycopg.connect(kamailio.database_url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO subscriber (username, domain, ha1, ha1b) VALUES (%s, %s, %s, %s)",
            (username, realm, md5(f"{username}:{realm}:{password}"),
             md5(f"{username}@{realm}:{realm}:{password}")))
    yield username, password
    with psycopg.connect(kamailio.database_url, autocommit=True) as connection:
        connection.execute("DELETE FROM subscriber WHERE username = %s", (username,))


def phone(kamailio: Kamailio, username: str, password: str) -> Phone:
    """A SIP device pointed at the test Kamailio."""
    return Phone(username, password, kamailio.domain, kamailio.sip)


def test_a_subscriber_registers_and_wrong_credentials_are_refused(
    kamailio: Kamailio, subscriber: tuple[str, str]
) -> None:
    username, password = subscriber
    device = phone(kamailio, username, password)
    try:
        assert device.register() == 200
        contacts = kamailio.rpc("ul.lookup", "location", username)
        assert device.address in str(contacts)
    finally:
        device.close()
    for wrong in (phone(kamailio, username, "not-the-password"),
                  phone(kamailio, "nobody" + secrets.token_hex(3), password)):
        try:
            assert wrong.register() in (401, 403)
        finally:
            wrong.close()


def test_removing_the_registration_over_json_rpc_takes_effect_at_once(
    kamailio: Kamailio, subscriber: tuple[str, str]
) -> None:
    username, password = subscriber
    device = phone(kamailio, username, password)
    try:
        assert device.register() == 200
        kamailio.rpc("ul.rm", "location", username)
        with pytest.raises(PhoneSystemError):  # "AOR not found"
            kamailio.rpc("ul.lookup", "location", username)
    finally:
        device.close()
