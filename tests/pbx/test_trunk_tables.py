"""The Kamailio adapter writes trunks and DIDs into Kamailio's tables exactly as its config
reads them (dispatcher, address, agentdesk_did)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tasks.pbx.kamailio import KamailioPhoneSystem
from tests.support.pbx import Kamailio
from workflow.ports import PhoneSystemError, TrunkGateway

VNPT = TrunkGateway(name="VNPT chính", address="203.162.4.1", port=5060, transport="udp",
                    position=1, number_format="national", number="+842873001234",
                    auth_username="agentdesk;1", auth_password="p=a%ss word;é",
                    auth_realm="sip.vnpt.vn")
VIETTEL = TrunkGateway(name="Viettel", address="203.162.4.99", port=5061, transport="tcp",
                       position=2, number_format="e164", number="+842473005678")


def rows(kamailio: Kamailio, query: str) -> list[tuple[Any, ...]]:
    """The rows of a query on Kamailio's database, sorted."""
    with psycopg.connect(kamailio.database_url) as connection:
        return sorted(connection.execute(query).fetchall())


def loaded_gateways(kamailio: Kamailio) -> str:
    """What Kamailio's dispatcher holds in memory, as text ("" for nothing)."""
    try:
        return str(kamailio.rpc("dispatcher.list"))
    except PhoneSystemError as error:
        assert "No Destination Sets" in str(error)
        return ""


@pytest.fixture
def clean_tables(kamailio: Kamailio) -> Iterator[None]:
    """Empty trunk tables before and after (the Kamailio is shared by the session)."""
    def empty() -> None:
        with psycopg.connect(kamailio.database_url, autocommit=True) as connection:
            connection.execute("DELETE FROM dispatcher; DELETE FROM address; "
                               "DELETE FROM agentdesk_did")
        kamailio.rpc("dispatcher.reload")  # Kamailio forgets them too
        kamailio.rpc("permissions.addressReload")
    empty()
    yield
    empty()


def test_trunks_and_dids_are_written_as_the_config_reads_them_and_only_once(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, clean_tables: None
) -> None:
    dids = {"+842873001234": "5101", "+842473005678": "5102"}
    assert pbx.ensure_trunks([VIETTEL, VNPT], dids) is True
    assert rows(kamailio, "SELECT setid, destination, flags, priority, attrs, description "
                          "FROM dispatcher") == [
        (1, "sip:203.162.4.1:5060;transport=udp", 0, 999,
         "name=VNPT%20ch%C3%ADnh;fmt=national;number=%2B842873001234;user=agentdesk%3B1;"
         "pass=p%3Da%25ss%20word%3B%C3%A9;realm=sip.vnpt.vn", "VNPT chính"),
        (1, "sip:203.162.4.99:5061;transport=tcp", 0, 998,
         "name=Viettel;fmt=e164;number=%2B842473005678", "Viettel"),
    ]
    assert rows(kamailio, "SELECT grp, ip_addr, mask, port, tag FROM address") == [
        (1, "203.162.4.1", 32, 0, "VNPT chính"), (1, "203.162.4.99", 32, 0, "Viettel")]
    assert rows(kamailio, "SELECT number, extension FROM agentdesk_did") == sorted(dids.items())
    ids = rows(kamailio, "SELECT id FROM dispatcher")
    # The same again: nothing written, nothing reloaded.
    assert pbx.ensure_trunks([VNPT, VIETTEL], dids) is False
    assert rows(kamailio, "SELECT id FROM dispatcher") == ids


def test_a_disabled_trunk_disappears_and_a_changed_one_is_rewritten_alone(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, clean_tables: None
) -> None:
    pbx.ensure_trunks([VNPT, VIETTEL], {"+842873001234": "5101"})
    kept = rows(kamailio, "SELECT id, description FROM dispatcher WHERE description = 'Viettel'")
    assert pbx.ensure_trunks([TrunkGateway(**{**VNPT.__dict__, "enabled": False}), VIETTEL],
                             {}) is True
    assert rows(kamailio, "SELECT description FROM dispatcher") == [("Viettel",)]
    assert rows(kamailio, "SELECT tag FROM address") == [("Viettel",)]
    assert rows(kamailio, "SELECT number FROM agentdesk_did") == []
    moved = TrunkGateway(**{**VIETTEL.__dict__, "position": 1})
    assert pbx.ensure_trunks([moved], {}) is True
    assert rows(kamailio, "SELECT priority FROM dispatcher") == [(999,)]
    # The address row did not change, so it was left where it was.
    assert rows(kamailio, "SELECT id, description FROM dispatcher") != kept
    assert pbx.ensure_trunks([], {}) is True
    assert rows(kamailio, "SELECT count(*) FROM dispatcher") == [(0,)]


def test_a_reload_that_failed_is_made_by_the_next_sync(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, clean_tables: None
) -> None:
    # Port 1: nothing listens, as when Kamailio is down: the tables are written, the reload
    # fails and the sync is reported failed.
    broken = KamailioPhoneSystem(pbx.engine, pbx.domain, "http://127.0.0.1:1/RPC")
    with pytest.raises(PhoneSystemError):
        broken.ensure_trunks([VNPT], {})
    assert rows(kamailio, "SELECT description FROM dispatcher") == [("VNPT chính",)]
    assert "203.162.4.1" not in loaded_gateways(kamailio)
    # The retry finds the tables right, yet Kamailio's memory stale: it reloads
    assert pbx.ensure_trunks([VNPT], {}) is False
    assert "sip:203.162.4.1:5060;transport=udp" in loaded_gateways(kamailio)
    assert "203.162.4.1" in str(kamailio.rpc("permissions.addressDump"))
