"""The Web phone's ephemeral credential: Kamailio auth_ephemeral's format and HMAC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflow.agents.webphone import ephemeral_credential

#: 2023-11-14 22:13:20 UTC, an hour before the expiry below.
NOW = datetime.fromtimestamp(1700000000, UTC)


def test_the_username_is_the_expiry_then_the_sip_username_and_the_password_its_hmac() -> None:
    issued = ephemeral_credential("kamailio_rules", "ag5001", NOW, timedelta(hours=1))
    assert issued.username == "1700003600:ag5001"
    # `printf %s 1700003600:ag5001 | openssl dgst -sha1 -hmac kamailio_rules -binary | base64`
    assert issued.password == "WFXz7nujVjVmMCAJF2Jt7+NvqvY="
    assert issued.expires_at == datetime(2023, 11, 14, 23, 13, 20, tzinfo=UTC)


def test_the_expiry_is_rounded_down_to_the_second() -> None:
    issued = ephemeral_credential("s", "ag5001", NOW + timedelta(microseconds=999_999),
                                  timedelta(seconds=10))
    assert issued.username == "1700000010:ag5001"


def test_another_secret_or_user_gives_another_password() -> None:
    base = ephemeral_credential("kamailio_rules", "ag5001", NOW, timedelta(hours=1)).password
    assert ephemeral_credential("other", "ag5001", NOW, timedelta(hours=1)).password != base
    assert ephemeral_credential("kamailio_rules", "ag5002", NOW,
                                timedelta(hours=1)).password != base


@pytest.mark.parametrize(("secret", "username"), [("", "ag5001"), ("s", "a:b")])
def test_an_empty_secret_or_a_username_with_a_colon_is_refused(secret: str,
                                                              username: str) -> None:
    with pytest.raises(ValueError):
        ephemeral_credential(secret, username, NOW, timedelta(hours=1))
