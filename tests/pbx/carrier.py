"""A carrier's SIP trunk for the PBX tests: its gateways, as agentdesk writes them for Kamailio.

Gateways send from 127.0.0.2, never from 127.0.0.1 where the agents' phones are: Kamailio
trusts a trunk by its address.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import psycopg

from tests.pbx.launcher import Kamailio
from tests.sip import Phone

#: Where the test carriers' gateways live.
CARRIER_HOST = "127.0.0.2"
#: The trunk's own number, shown for forwards when the forwarding agent has no hotline.
TRUNK_NUMBER = "+842873000000"


@dataclass(frozen=True)
class Gateway:
    """One gateway of the carrier: where it listens and what the trunk's attributes say."""

    port: int
    fmt: str = "e164"
    number: str = TRUNK_NUMBER
    user: str = ""
    password: str = ""
    host: str = CARRIER_HOST

    @property
    def attrs(self) -> str:
        """The dispatcher attrs, every value percent-encoded."""
        pairs = {"fmt": self.fmt, "number": self.number}
        if self.user:
            pairs |= {"user": self.user, "pass": self.password}
        return ";".join(f"{name}={quote(value, safe='')}" for name, value in pairs.items())


def gateway_phone(kamailio: Kamailio, made: list[Phone]) -> Phone:
    """A test phone playing a carrier's gateway (it receives what the proxy sends it)."""
    made.append(Phone("carrier", "", "carrier.example", kamailio.sip, host=CARRIER_HOST))
    return made[-1]


def gateway_of(phone: Phone, **attributes: str) -> Gateway:
    """The gateway a test phone plays."""
    return Gateway(int(phone.address.rsplit(":", 1)[1]), **attributes)


def use_gateways(kamailio: Kamailio, *gateways: Gateway) -> None:
    """Make these (in this order) the trunk's gateways, and their hosts its addresses."""
    with psycopg.connect(kamailio.database_url, autocommit=True) as connection:
        connection.execute("DELETE FROM dispatcher")
        connection.execute("DELETE FROM address")
        connection.cursor().executemany(
            "INSERT INTO dispatcher (setid, destination, priority, attrs, description) "
            "VALUES (1, %s, %s, %s, %s)",
            [(f"sip:{gateway.host}:{gateway.port};transport=udp", 1000 - position,
              gateway.attrs, f"gateway {position}")
             for position, gateway in enumerate(gateways, start=1)])
        connection.cursor().executemany(
            "INSERT INTO address (grp, ip_addr, mask, port, tag) VALUES (1, %s, 32, 0, %s)",
            [(host, "carrier") for host in sorted({gateway.host for gateway in gateways})])
    kamailio.rpc("dispatcher.reload")
    kamailio.rpc("permissions.addressReload")


def map_hotline(kamailio: Kamailio, number: str, extension: str) -> None:
    """Make a call from the carrier to `number` ring `extension` (agentdesk_did)."""
    with psycopg.connect(kamailio.database_url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO agentdesk_did (number, extension) VALUES (%s, %s) "
            "ON CONFLICT (number) DO UPDATE SET extension = EXCLUDED.extension",
            (number, extension))
