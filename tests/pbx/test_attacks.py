"""kamailio.cfg against attackers: replayed credentials, password guessing, floods.

This module runs its own Kamailio with small limits (AUTH_FAILURES, PIKE_REQS): bans last for
the whole module, so each test speaks from its own loopback addresses (127.0.0.x) and its own
usernames. Third-party clients (SIPp, tests/pbx/sipp/*.xml) play the phones and attackers
where they can; tests/support/sip.py sends the hand-made (replayed) requests.
"""

from __future__ import annotations

import re
import secrets
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.pbx.kamailio import KamailioPhoneSystem
from tests.support.apps import worker_suffix
from tests.support.pbx import Kamailio, running_kamailio
from tests.support.sip import SDP, Message, Phone, md5
from workflow.domain.routing import Routing
from workflow.ports import PhoneAccount

SCENARIOS = Path(__file__).with_name("sipp")
AUTH_FAILURES = 3
PIKE_REQS = 20
SECRET = "mat-khau-chong-tan-cong"


@pytest.fixture(scope="module")
def kamailio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kamailio]:
    """Kamailio with small ban and flood limits; bans outlast every test of the module."""
    log = tmp_path_factory.mktemp("kamailio_attacks") / "kamailio.log"
    defines = {"AUTH_FAILURES": str(AUTH_FAILURES), "BAN_SECONDS": "300",
               "PIKE_REQS": str(PIKE_REQS), "PIKE_SECONDS": "2"}
    with running_kamailio(f"agentdesk_attacks_{worker_suffix()}", log,
                          defines=defines) as running:
        yield running


def agent(pbx: KamailioPhoneSystem, username: str, extension: str) -> None:
    """An agent account: subscriber (password SECRET) and extension."""
    pbx.ensure_account(PhoneAccount(username, extension, Routing(), SECRET), 1)


def phone_at(kamailio: Kamailio, host: str, username: str, password: str = SECRET,
             made: list[Phone] | None = None) -> Phone:
    """A SIP device sending from `host` (a loopback address of its own)."""
    device = Phone(username, password, kamailio.domain, kamailio.sip)
    device.sock.close()
    device.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    device.sock.bind((host, 0))
    if made is not None:
        made.append(device)
    return device


def sipp(kamailio: Kamailio, scenario: str, host: str, *options: str, calls: int = 1,
         timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """Run a SIPp scenario from `host` against the proxy; `calls` of them, one at a time
    unless `options` say otherwise. Its exit status is 0 when every call succeeded."""
    command = ["sipp", f"{kamailio.sip[0]}:{kamailio.sip[1]}",
               "-sf", str(SCENARIOS / scenario), "-i", host, "-t", "u1",
               "-key", "domain", kamailio.domain, "-m", str(calls), "-l", "1",
               "-nostdin", "-nr", "-recv_timeout", "3000", "-timeout", "15s",
               "-timeout_error", *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          check=False)


def digest(device: Phone, challenge: str, method: str, uri: str, nc: int) -> str:
    """The credentials a qop=auth client answers `challenge` with, at nonce-count `nc`."""
    realm = _param(challenge, "realm")
    nonce = _param(challenge, "nonce")
    assert 'qop="auth"' in challenge, challenge
    cnonce, count = secrets.token_hex(8), f"{nc:08x}"
    ha1 = md5(f"{device.username}:{realm}:{device.password}")
    response = md5(f"{ha1}:{nonce}:{count}:{cnonce}:auth:{md5(f'{method}:{uri}')}")
    return (f'Digest username="{device.username}", realm="{realm}", nonce="{nonce}", '
            f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc={count}, '
            f'cnonce="{cnonce}"')


def send_register(device: Phone, call_id: str, cseq: int, authorization: str = "") -> Message:
    """Send one REGISTER of `device` (with an Authorization value, if given); its answer."""
    uri = f"sip:{device.domain}"
    extra = f"Authorization: {authorization}\r\n" if authorization else ""
    device.send(request(device, "REGISTER", uri, f"sip:{device.username}@{device.domain}",
                        call_id, cseq, f"Expires: 300\r\n{extra}"))
    return final_answer(device, call_id)


def send_invite(device: Phone, number: str, call_id: str, cseq: int,
                authorization: str = "") -> Message:
    """Send one INVITE from `device` to `number` (with a Proxy-Authorization value, if
    given); its final answer (ACKed)."""
    uri = f"sip:{number}@{device.domain}"
    extra = "Content-Type: application/sdp\r\n"
    if authorization:
        extra += f"Proxy-Authorization: {authorization}\r\n"
    branch = "z9hG4bK" + secrets.token_hex(6)
    device.send(request(device, "INVITE", uri, uri, call_id, cseq, extra, SDP, branch))
    answer = final_answer(device, call_id)
    # The ACK of a refused INVITE: same branch, the answer's To (with its tag).
    device.send(f"ACK {uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {device.address};branch={branch};rport\r\n"
                f"Max-Forwards: 70\r\n"
                f"From: <sip:{device.username}@{device.domain}>;tag={device.tag}\r\n"
                f"To: {answer.header('to')}\r\nCall-ID: {call_id}\r\n"
                f"CSeq: {cseq} ACK\r\nContent-Length: 0\r\n\r\n")
    return answer


def request(device: Phone, method: str, uri: str, to: str, call_id: str, cseq: int,
            extra: str = "", body: str = "", branch: str = "") -> str:
    """A request from `device`, with the Call-ID and CSeq the caller chooses."""
    branch = branch or "z9hG4bK" + secrets.token_hex(6)
    return (f"{method} {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {device.address};branch={branch};rport\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:{device.username}@{device.domain}>;tag={device.tag}\r\n"
            f"To: <{to}>\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n"
            f"Contact: <sip:{device.username}@{device.address}>\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n{body}")


def final_answer(device: Phone, call_id: str) -> Message:
    """The next final response to the request with `call_id` (others are skipped)."""
    while (answer := device.receive(3.0)) is not None:
        if answer.status >= 200 and answer.header("call-id") == call_id:
            return answer
    raise TimeoutError(f"no final answer to {call_id}")


def _param(header: str, name: str) -> str:
    """A quoted parameter of a WWW-/Proxy-Authenticate header."""
    found = re.search(rf'{name}="([^"]*)"', header)
    return found.group(1) if found else ""


def test_a_third_party_phone_registers_and_calls_with_qop(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone], tmp_path: Path
) -> None:
    agent(pbx, "agqop1", "5701")
    agent(pbx, "agqop2", "5702")
    callee = phone_at(kamailio, "127.0.0.12", "agqop2", made=devices)
    assert callee.register() == 200
    trace = tmp_path / "register.log"
    registered = sipp(kamailio, "register.xml", "127.0.0.11", "-s", "agqop1",
                      "-au", "agqop1", "-ap", SECRET, "-trace_msg", "-message_file", str(trace))
    assert registered.returncode == 0, registered.stdout[-2000:]
    assert "qop=auth" in trace.read_text() and "nc=00000001" in trace.read_text()
    assert "127.0.0.11" in str(kamailio.rpc("ul.lookup", "location", "agqop1"))

    # The call: SIPp dials 5702, the callee's phone picks up, SIPp hangs up.
    trace = tmp_path / "call.log"
    options = ("-s", "5702", "-key", "caller", "agqop1", "-au", "agqop1", "-ap", SECRET,
               "-trace_msg", "-message_file", str(trace))
    outcome: list[subprocess.CompletedProcess[str]] = []
    caller = threading.Thread(
        target=lambda: outcome.append(sipp(kamailio, "call.xml", "127.0.0.11", *options)))
    caller.start()
    try:
        invite = callee.ring(timeout=10)
        assert invite is not None, "the authenticated call never reached the callee"
        callee.accept(invite)
        assert callee.hung_up(timeout=10) is not None
    finally:
        caller.join(30)
    assert outcome and outcome[0].returncode == 0, outcome and outcome[0].stdout[-2000:]
    sent = trace.read_text()
    assert re.search(r'Proxy-Authenticate: Digest [^\r\n]*qop="auth"', sent)
    assert re.search(r"Proxy-Authorization: Digest [^\r\n]*qop=auth", sent)


def test_a_replayed_register_credential_is_refused_and_does_not_count_as_a_failure(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    agent(pbx, "agreplay1", "5711")
    device = phone_at(kamailio, "127.0.0.21", "agreplay1", made=devices)
    call_id = secrets.token_hex(8)
    challenge = send_register(device, call_id, 1)
    assert challenge.status == 401
    header = challenge.header("www-authenticate")
    accepted = digest(device, header, "REGISTER", f"sip:{device.domain}", 1)
    assert send_register(device, call_id, 2, accepted).status == 200
    # The phone itself may reuse its nonce with a higher count.
    assert send_register(device, call_id, 3,
                         digest(device, header, "REGISTER", f"sip:{device.domain}", 2)
                         ).status == 200
    # The accepted credential sent again, from the same address (a spoofed or shared one):
    # in a new REGISTER, and in one with the same Call-ID. More times than AUTH_FAILURES.
    for attempt in range(AUTH_FAILURES + 1):
        replay = send_register(device, secrets.token_hex(8) if attempt % 2 else call_id,
                               10 + attempt, accepted)
        assert replay.status == 401, replay.first_line
        assert "stale=true" in replay.header("www-authenticate")
    # An honest phone answers the fresh challenge at once: the replays banned nothing.
    assert device.register() == 200


def test_a_replayed_invite_credential_reaches_nobody(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    for username, extension in (("agrep1", "5721"), ("agrep2", "5722"), ("agrep3", "5723")):
        agent(pbx, username, extension)
    caller = phone_at(kamailio, "127.0.0.22", "agrep1", made=devices)
    first = phone_at(kamailio, "127.0.0.23", "agrep2", made=devices)
    other = phone_at(kamailio, "127.0.0.24", "agrep3", made=devices)
    assert first.register() == 200 and other.register() == 200
    call_id = secrets.token_hex(8)
    challenge = send_invite(caller, "5722", call_id, 1)
    assert challenge.status == 407
    accepted = digest(caller, challenge.header("proxy-authenticate"), "INVITE",
                      f"sip:5722@{caller.domain}", 1)
    answered: list[Message] = []
    relayed = threading.Thread(
        target=lambda: answered.append(send_invite(caller, "5722", call_id, 2, accepted)))
    relayed.start()
    invite = first.ring()
    assert invite is not None, "the genuine call was not relayed"
    first.answer(invite, 486, "Busy Here")
    relayed.join(10)
    assert answered and answered[0].status == 486
    # The same Proxy-Authorization in new calls (new Call-ID), to another agent and again.
    for target, phone in (("5723", other), ("5722", first)):
        replay = send_invite(caller, target, secrets.token_hex(8), 1, accepted)
        assert replay.status == 407, replay.first_line
        assert phone.ring(timeout=1) is None, f"{target} rang on a replayed credential"


def test_guessing_passwords_bans_the_address_and_the_username(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    agent(pbx, "agvictim", "5731")
    agent(pbx, "agbystander", "5732")
    # Requests without credentials are no failures: twice the limit of them bans nothing.
    probe = phone_at(kamailio, "127.0.0.31", "agvictim", "wrong-guess", made=devices)
    for _ in range(2 * AUTH_FAILURES):
        assert send_register(probe, secrets.token_hex(8), 1).status == 401
    # Wrong passwords with SIPp: each refused with a new challenge until the limit...
    guess = ("-s", "agvictim", "-au", "agvictim", "-ap", "wrong-guess")
    refused = sipp(kamailio, "register_refused.xml", "127.0.0.31", *guess,
                   calls=AUTH_FAILURES - 1)
    assert refused.returncode == 0, refused.stdout[-2000:]
    # ...then 403, to the guess that reaches it and to every later one.
    for _ in range(2):
        banned = sipp(kamailio, "register_forbidden.xml", "127.0.0.31", *guess)
        assert banned.returncode == 0, banned.stdout[-2000:]
    # The right password is refused too: from that address, and for that user from another.
    assert phone_at(kamailio, "127.0.0.31", "agvictim", made=devices).register() == 403
    assert phone_at(kamailio, "127.0.0.32", "agvictim", made=devices).register() == 403
    assert phone_at(kamailio, "127.0.0.31", "agbystander", made=devices).register() == 403
    # Another user from another address is not concerned.
    assert phone_at(kamailio, "127.0.0.32", "agbystander", made=devices).register() == 200


def test_guessing_usernames_bans_the_address(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    agent(pbx, "agscanned", "5741")
    # Unknown users, each once: no username reaches the limit, the address does.
    for attempt in range(AUTH_FAILURES):
        answer = phone_at(kamailio, "127.0.0.33", f"nobody{attempt}", made=devices).register()
        assert answer == (403 if attempt == AUTH_FAILURES - 1 else 401)
    assert phone_at(kamailio, "127.0.0.33", "agscanned", made=devices).register() == 403
    assert phone_at(kamailio, "127.0.0.34", "agscanned", made=devices).register() == 200


def test_a_flooding_address_is_dropped(
    kamailio: Kamailio, devices: list[Phone]
) -> None:
    flood = sipp(kamailio, "options.xml", "127.0.0.41", "-r", "1000", "-l", "1000",
                 calls=10 * PIKE_REQS)
    assert flood.returncode == 1, flood.stdout[-2000:]  # some went unanswered
    answered = int(re.findall(r"Successful call\s+\|\s+\d+\s+\|\s+(\d+)", flood.stdout)[-1])
    assert 0 < answered < 10 * PIKE_REQS, flood.stdout[-2000:]
    # Banned: the flooding address gets no answer at all, another one does.
    for host, expected in (("127.0.0.41", None), ("127.0.0.42", 200)):
        prober = phone_at(kamailio, host, "probe", made=devices)
        prober.send(request(prober, "OPTIONS", f"sip:{prober.domain}", f"sip:{prober.domain}",
                            secrets.token_hex(8), 1))
        answer = prober.receive(1.0)
        assert (answer.status if answer else None) == expected
