"""Call records: the shipped kamailio.cfg records every call attempt (acc), and the adapter
reads an agent's recent calls from them, made or received, newest first.

Real calls between test phones through the shared Kamailio: an answered call hung up with a
BYE, calls the class of service refuses, calls nobody takes.
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import create_engine, event

from tasks.pbx.kamailio import KamailioPhoneSystem
from tests.support.carrier import CARRIER_HOST, gateway_of, map_hotline, use_gateways
from tests.support.kamailio_profiles import SECRET, set_profile
from tests.support.pbx import Kamailio
from tests.support.processes import wait_for
from tests.support.sip import Message, Phone
from workflow.domain.routing import Routing
from workflow.ports import CallDirection, CallOutcome, CallRecord, PhoneAccount, PhoneSystemError

#: An operator's number calling in through a trunk (not one of ours: never challenged).
OUTSIDER = "+84912000077"


def agent(kamailio: Kamailio, pbx: KamailioPhoneSystem, made: list[Phone], username: str,
          extension: str) -> Phone:
    """An agent that may call colleagues only, with one registered phone."""
    pbx.ensure_account(PhoneAccount(username, extension, Routing(), SECRET), 1)
    set_profile(kamailio, username, cos_out="0", cos_classes="internal")
    made.append(Phone(username, SECRET, kamailio.domain, kamailio.sip))
    assert made[-1].register() == 200
    return made[-1]


def talk(caller: Phone, callee: Phone, extension: str) -> str:
    """A call from `caller` to `extension` that `callee` picks up and `caller` hangs up;
    its Call-ID."""
    caller.dial(extension)
    invite = callee.ring()
    assert invite is not None, "the call never rang"
    callee.accept(invite)
    assert caller.outcome() == 200
    caller.ack()
    caller.hang_up()
    assert callee.hung_up(timeout=3.0) is not None, "the BYE never reached the callee"
    # The answer to the BYE, past any late repeat of the call's 180 (Kamailio's two UDP
    # workers may relay the 180 after the 200 OK that followed it)
    assert caller.outcome() == 200, caller.last_answer.first_line
    return caller.last_answer.header("call-id")


def not_taken(caller: Phone, callee: Phone, extension: str) -> Message:
    """A call from `caller` to `extension` that `callee` declines as unavailable (480)."""
    caller.dial(extension)
    invite = callee.ring()
    assert invite is not None, "the call never rang"
    callee.answer(invite, 480, "Temporarily Unavailable")
    assert caller.outcome() == 480
    return invite


def calls(pbx: KamailioPhoneSystem, username: str, count: int,
          limit: int = 10) -> list[CallRecord]:
    """The agent's recent calls, once `count` of them are recorded (acc writes a relayed
    call's record as its final answer goes out, so a moment after the caller has it)."""
    return wait_for(lambda: (found := pbx.recent_calls(username, limit)) and
                    len(found) >= count and found, f"{count} call records of {username}",
                    timeout=5)


def cdr_written(kamailio: Kamailio, call_id: str) -> bool:
    """Whether Kamailio has written the call's CDR (when its dialog ended)."""
    with psycopg.connect(kamailio.database_url) as connection:
        return connection.execute("SELECT 1 FROM acc_cdrs WHERE callid = %s",
                                  (call_id,)).fetchone() is not None


def bye_recorded(kamailio: Kamailio, call_id: str) -> bool:
    """Whether Kamailio has recorded the call's BYE."""
    with psycopg.connect(kamailio.database_url) as connection:
        return connection.execute("SELECT 1 FROM acc WHERE callid = %s AND method = 'BYE'",
                                  (call_id,)).fetchone() is not None


def test_an_answered_call_hung_up_is_one_record_with_its_duration_for_each_agent(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agrec1", "6701")
    callee = agent(kamailio, pbx, devices, "agrec2", "6702")
    call_id = talk(caller, callee, "6702")
    # The duration comes with the end of the call's dialog (acc_cdrs), the BYE's own record
    # as its answer goes out: wait for both
    wait_for(lambda: cdr_written(kamailio, call_id) and bye_recorded(kamailio, call_id),
             "the call's CDR and its BYE's record", timeout=5)
    made = pbx.recent_calls("agrec1", 10)
    assert len(made) == 1  # the answer and the BYE are one call
    record = made[0]
    assert (record.direction, record.other_party, record.outcome, record.sip_code,
            record.reason) == (CallDirection.OUT, "6702", CallOutcome.ANSWERED, 200, "OK")
    assert record.duration is not None and record.duration >= 0
    received = pbx.recent_calls("agrec2", 10)
    assert [(call.direction, call.other_party, call.outcome, call.duration)
            for call in received] == [(CallDirection.IN, "6701", CallOutcome.ANSWERED,
                                       record.duration)]
    # Recorded in Kamailio's tables with the extra columns agentdesk and operators read
    with psycopg.connect(kamailio.database_url) as connection:
        rows = connection.execute(
            "SELECT method, caller, callee, caller_agent, callee_agent, src_ip FROM acc "
            # Kamailio's workers write the answer's and the BYE's rows each on its own: by
            # method, not in the order they were written.
            "WHERE callid = %s ORDER BY method DESC", (call_id,)).fetchall()
    assert rows == [("INVITE", "agrec1", "6702", "agrec1", "agrec2", "127.0.0.1"),
                    ("BYE", "agrec1", "", "agrec1", "agrec2", "127.0.0.1")]


def test_refused_calls_are_recorded_with_the_reason_given(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agrec3", "6703")
    set_profile(kamailio, "agrec3", cos_out="0", cos_classes="mobile")
    agent(kamailio, pbx, devices, "agrec4", "6704")
    caller.dial("6704")  # a colleague, but internal calls are not allowed
    assert (caller.outcome(), caller.last_answer.reason) == (403, "Number Class Not Allowed")
    caller.dial("0113")  # no number at all
    assert (caller.outcome(), caller.last_answer.reason) == (404, "Number Not Valid")
    found = pbx.recent_calls("agrec3", 10)
    assert [(call.direction, call.other_party, call.outcome, call.sip_code, call.reason,
             call.duration) for call in found] == [
        (CallDirection.OUT, "0113", CallOutcome.REFUSED, 404, "Number Not Valid", None),
        (CallDirection.OUT, "6704", CallOutcome.REFUSED, 403, "Number Class Not Allowed",
         None)]
    assert found[0].at >= found[1].at


def test_a_call_nobody_takes_is_recorded_as_missed_on_both_sides(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agrec5", "6705")
    callee = agent(kamailio, pbx, devices, "agrec6", "6706")
    not_taken(caller, callee, "6706")
    made = calls(pbx, "agrec5", 1)
    assert [(call.direction, call.other_party, call.outcome, call.sip_code, call.reason)
            for call in made] == [(CallDirection.OUT, "6706", CallOutcome.MISSED, 480,
                                   "Temporarily Unavailable")]
    # A caller from outside, through the carrier's trunk to a hotline, finds the agent busy
    trunk = Phone(OUTSIDER, "", "operator.example", kamailio.sip, host=CARRIER_HOST)
    devices.append(trunk)
    use_gateways(kamailio, gateway_of(trunk))
    map_hotline(kamailio, "+842838000706", "6706")
    trunk.send_invite("+842838000706")
    invite = callee.ring()
    assert invite is not None
    callee.answer(invite, 486, "Busy Here")
    assert trunk.outcome() == 486
    received = calls(pbx, "agrec6", 2)
    assert [(call.direction, call.other_party, call.outcome, call.sip_code)
            for call in received] == [(CallDirection.IN, OUTSIDER, CallOutcome.MISSED, 486),
                                      (CallDirection.IN, "6705", CallOutcome.MISSED, 480)]


def test_an_agents_calls_made_and_received_come_newest_first(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    first = agent(kamailio, pbx, devices, "agrec7", "6707")
    second = agent(kamailio, pbx, devices, "agrec8", "6708")
    talk(second, first, "6707")  # received, answered
    not_taken(first, second, "6708")  # made, missed
    first.dial("0113")  # made, refused
    assert first.outcome() == 404
    assert [(call.direction, call.outcome) for call in calls(pbx, "agrec7", 3)] == [
        (CallDirection.OUT, CallOutcome.REFUSED), (CallDirection.OUT, CallOutcome.MISSED),
        (CallDirection.IN, CallOutcome.ANSWERED)]
    assert [(call.direction, call.outcome) for call in pbx.recent_calls("agrec7", 2)] == [
        (CallDirection.OUT, CallOutcome.REFUSED), (CallDirection.OUT, CallOutcome.MISSED)]
    # Another agent's calls are not among them
    assert [(call.direction, call.outcome) for call in calls(pbx, "agrec8", 2)] == [
        (CallDirection.IN, CallOutcome.MISSED), (CallDirection.OUT, CallOutcome.ANSWERED)]


def test_each_agents_last_call_comes_in_one_query_as_its_recent_calls_give_it(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agrec9", "6709")
    callee = agent(kamailio, pbx, devices, "agrec10", "6710")
    agent(kamailio, pbx, devices, "agrec11", "6711")  # never calls, never called
    refused = agent(kamailio, pbx, devices, "agrec12", "6712")
    call_id = talk(caller, callee, "6710")  # answered: the last call of both agents
    refused.dial("0113")  # refused by the switchboard: still the agent's last call
    assert refused.outcome() == 404
    # Both readings below must see the same records: the call's duration too
    wait_for(lambda: cdr_written(kamailio, call_id) and bye_recorded(kamailio, call_id),
             "the call's CDR and its BYE's record", timeout=5)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(pbx.engine, "before_cursor_execute", count)
    try:
        found = pbx.last_calls(["agrec9", "agrec10", "agrec11", "agrec12", "agrec10"])
    finally:
        event.remove(pbx.engine, "before_cursor_execute", count)
    assert len(statements) == 1  # the whole page in one statement, not one per agent
    assert set(found) == {"agrec9", "agrec10", "agrec12"}  # no call, no entry
    for username in ("agrec9", "agrec10", "agrec12"):
        assert [found[username]] == pbx.recent_calls(username, 1)
    assert (found["agrec9"].direction, found["agrec9"].other_party,
            found["agrec9"].outcome) == (CallDirection.OUT, "6710", CallOutcome.ANSWERED)
    assert (found["agrec10"].direction, found["agrec10"].other_party,
            found["agrec10"].outcome) == (CallDirection.IN, "6709", CallOutcome.ANSWERED)
    assert (found["agrec12"].direction, found["agrec12"].other_party, found["agrec12"].outcome,
            found["agrec12"].sip_code) == (CallDirection.OUT, "0113", CallOutcome.REFUSED, 404)
    assert pbx.last_calls([]) == {}


def test_last_calls_that_cannot_be_read_raise_a_phone_system_error(
    kamailio: Kamailio
) -> None:
    gone = KamailioPhoneSystem(
        create_engine(kamailio.database_url.replace("postgresql://", "postgresql+psycopg://")
                      .rsplit("/", 1)[0] + "/agentdesk_no_such_kamailio"),
        kamailio.domain, kamailio.rpc_url)
    with pytest.raises(PhoneSystemError):
        gone.last_calls(["agrec9"])
    gone.engine.dispose()
