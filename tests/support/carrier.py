"""A carrier's SIP trunk for the PBX tests: its gateways, written by agentdesk's adapter.

Gateways send from 127.0.0.2, never from 127.0.0.1 where the agents' phones are: Kamailio
trusts a trunk by its address.
"""

from __future__ import annotations

import itertools

import psycopg
from sqlalchemy import create_engine

from tasks.pbx.kamailio import KamailioPhoneSystem
from tests.support.pbx import Kamailio
from tests.support.sip import Message, Phone
from workflow.ports import TrunkGateway

#: Where the test carriers' gateways live.
CARRIER_HOST = "127.0.0.2"
#: The trunk's own number, shown for forwards when the forwarding agent has no hotline.
TRUNK_NUMBER = "+842873000000"


def gateway_phone(kamailio: Kamailio, made: list[Phone]) -> Phone:
    """A test phone playing a carrier's gateway (it receives what the proxy sends it)."""
    made.append(Phone("carrier", "", "carrier.example", kamailio.sip, host=CARRIER_HOST))
    return made[-1]


def gateway_of(phone: Phone, number_format: str = "e164") -> TrunkGateway:
    """A trunk whose gateway is this test phone."""
    return gateway_at(int(phone.address.rsplit(":", 1)[1]), number_format)


def gateway_at(port: int, number_format: str = "e164", username: str | None = None,
               password: str | None = None) -> TrunkGateway:
    """A trunk whose gateway listens on CARRIER_HOST:`port`."""
    return TrunkGateway(name=f"Carrier {port}", address=CARRIER_HOST, port=port,
                        transport="udp", position=1, number_format=number_format,
                        number=TRUNK_NUMBER, auth_username=username, auth_password=password)


def use_gateways(kamailio: Kamailio, *gateways: TrunkGateway) -> None:
    """Make these (in this order) the trunk's gateways, as agentdesk's sync writes them; the
    hotline numbers mapped so far stay."""
    ordered = [TrunkGateway(**{**gateway.__dict__, "position": position})
               for position, gateway in enumerate(gateways, start=1)]
    engine = create_engine(kamailio.database_url.replace("postgresql://",
                                                         "postgresql+psycopg://"))
    try:
        KamailioPhoneSystem(engine, kamailio.domain, kamailio.rpc_url).ensure_trunks(
            ordered, _hotlines(kamailio))
    finally:
        engine.dispose()


def _hotlines(kamailio: Kamailio) -> dict[str, str]:
    """The hotline numbers mapped to extensions now."""
    with psycopg.connect(kamailio.database_url) as connection:
        return dict(connection.execute("SELECT number, extension FROM agentdesk_did").fetchall())


def map_hotline(kamailio: Kamailio, number: str, extension: str) -> None:
    """Make a call from the carrier to `number` ring `extension` (agentdesk_did)."""
    with psycopg.connect(kamailio.database_url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO agentdesk_did (number, extension) VALUES (%s, %s) "
            "ON CONFLICT (number) DO UPDATE SET extension = EXCLUDED.extension",
            (number, extension))


_mobiles = itertools.count(1)


def new_mobile() -> str:
    """A Vietnamese mobile number (+84 913…) no other test uses."""
    return f"+84913{next(_mobiles):06d}"


def refused(caller: Phone) -> tuple[int, str]:
    """The final status and reason phrase of the caller's last call."""
    status = caller.outcome()
    return status, caller.last_answer.reason


def rings(callee: Phone, caller: Phone) -> Message:
    """The INVITE that reached `callee`, which then declines it (486) so the call ends."""
    invite = callee.ring()
    assert invite is not None, "the call never reached the number"
    callee.answer(invite, 486, "Busy Here")
    assert caller.outcome() == 486
    return invite


def identity(e164: str) -> list[str]:
    """The P-Asserted-Identity the proxy should send the carrier for `e164`."""
    return [f"<sip:{e164}@{CARRIER_HOST}>"]
