"""A small SIP user agent over UDP for the tests: REGISTER with digest auth, calls, answers."""

from __future__ import annotations

import hashlib
import re
import secrets
import socket
import time
from dataclasses import dataclass, field


def md5(text: str) -> str:
    """Hex MD5, as SIP digest uses it."""
    return hashlib.md5(text.encode()).hexdigest()


@dataclass
class Message:
    """A parsed SIP request or response."""

    first_line: str
    headers: dict[str, list[str]]
    body: str = ""

    @property
    def status(self) -> int:
        """The status code of a response (0 for a request)."""
        parts = self.first_line.split(" ", 2)
        return int(parts[1]) if self.first_line.startswith("SIP/2.0") else 0

    @property
    def reason(self) -> str:
        """The reason phrase of a response (empty for a request)."""
        parts = self.first_line.split(" ", 2)
        return parts[2] if self.first_line.startswith("SIP/2.0") and len(parts) > 2 else ""

    @property
    def method(self) -> str:
        """The method of a request (empty for a response)."""
        return "" if self.first_line.startswith("SIP/2.0") else self.first_line.split(" ")[0]

    def header(self, name: str) -> str:
        """The first value of a header (case-insensitive), or empty."""
        return (self.headers.get(name.lower()) or [""])[0]


def parse(data: bytes) -> Message:
    """Parse a SIP message."""
    text = data.decode(errors="replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return Message(lines[0], headers, body)


@dataclass
class Phone:
    """One SIP device: its own UDP socket, registering as `username` at `domain`."""

    username: str
    password: str
    domain: str
    proxy: tuple[str, int]
    #: The address it sends from (a carrier's gateway is not where agents' phones are).
    host: str = field(default="127.0.0.1", kw_only=True)
    #: The User-Agent header it sends (none when None).
    user_agent: str | None = field(default=None, kw_only=True)
    sock: socket.socket = field(init=False)
    tag: str = field(default_factory=lambda: secrets.token_hex(4))
    cseq: int = 1
    _last: Message = field(init=False, default_factory=lambda: Message("", {}))
    _early: int | None = field(init=False, default=None)
    #: Request-URI of each INVITE sent, by Call-ID: a refusal is ACKed to the same URI.
    _invited: dict[str, str] = field(init=False, default_factory=dict)
    #: (Call-ID, CSeq) of the final answers already taken: their repeats are not new answers.
    _answered: set[tuple[str, str]] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.host, 0))
        self.sock.settimeout(3.0)

    @property
    def address(self) -> str:
        """host:port this device receives on."""
        host, port = self.sock.getsockname()
        return f"{host}:{port}"

    @property
    def last_answer(self) -> Message:
        """The final response to the call last dialled (after `outcome`)."""
        return self._last

    def close(self) -> None:
        """Release the socket."""
        self.sock.close()

    def send(self, text: str) -> None:
        """Send a raw SIP message to the proxy."""
        self.sock.sendto(text.encode(), self.proxy)

    def receive(self, timeout: float = 3.0) -> Message | None:
        """The next message, or None after `timeout` seconds."""
        self.sock.settimeout(timeout)
        try:
            data, _ = self.sock.recvfrom(65535)
        except TimeoutError:
            return None
        return parse(data)

    def _request(self, method: str, uri: str, to: str, call_id: str,
                 extra: str = "", body: str = "", contact: str | None = None) -> str:
        """A request from this device."""
        self.cseq += 1
        branch = "z9hG4bK" + secrets.token_hex(6)
        return (
            f"{method} {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {self.address};branch={branch};rport\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:{self.username}@{self.domain}>;tag={self.tag}\r\n"
            f"To: <{to}>\r\n"
            f"Call-ID: {call_id}\r\n"
            f"CSeq: {self.cseq} {method}\r\n"
            f"Contact: <{contact or f'sip:{self.username}@{self.address}'}>\r\n"
            + (f"User-Agent: {self.user_agent}\r\n" if self.user_agent else "")
            + f"{extra}"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        )

    def register(self, expires: int = 300, contact: str | None = None) -> int:
        """REGISTER (this device's address as Contact, unless `contact` names another),
        answering the digest challenge; returns the final status code."""
        call_id = secrets.token_hex(8)
        aor = f"sip:{self.username}@{self.domain}"
        uri = f"sip:{self.domain}"
        self.send(self._request("REGISTER", uri, aor, call_id, f"Expires: {expires}\r\n",
                                contact=contact))
        answer = self._final()
        if answer.status != 401:
            return answer.status
        challenge = answer.header("www-authenticate")
        realm = _param(challenge, "realm")
        nonce = _param(challenge, "nonce")
        ha1 = md5(f"{self.username}:{realm}:{self.password}")
        response = md5(f"{ha1}:{nonce}:{md5(f'REGISTER:{uri}')}")
        auth = (f'Authorization: Digest username="{self.username}", realm="{realm}", '
                f'nonce="{nonce}", uri="{uri}", response="{response}", algorithm=MD5\r\n')
        self.send(self._request("REGISTER", uri, aor, call_id,
                                f"Expires: {expires}\r\n{auth}", contact=contact))
        return self._final().status

    def dial(self, number: str, headers: str = "") -> None:
        """INVITE `number` at the domain, proving who calls when the proxy asks (407).

        `headers`: extra header lines, each ending in CRLF (e.g. P-Preferred-Identity).
        """
        uri = f"sip:{number}@{self.domain}"
        call_id = secrets.token_hex(8)
        self._invited[call_id] = uri
        sdp = "Content-Type: application/sdp\r\n" + headers
        self.send(self._request("INVITE", uri, uri, call_id, sdp, SDP))
        challenge = self.outcome()
        if challenge != 407:
            self._early = challenge
            return
        header = self._last.header("proxy-authenticate")
        realm, nonce = _param(header, "realm"), _param(header, "nonce")
        ha1 = md5(f"{self.username}:{realm}:{self.password}")
        response = md5(f"{ha1}:{nonce}:{md5(f'INVITE:{uri}')}")
        auth = (f'Proxy-Authorization: Digest username="{self.username}", realm="{realm}", '
                f'nonce="{nonce}", uri="{uri}", response="{response}", algorithm=MD5\r\n')
        self.send(self._request("INVITE", uri, uri, call_id, sdp + auth, SDP))

    def send_invite(self, number: str, headers: str = "") -> None:
        """INVITE `number` at the domain and return at once, as a trunk (never challenged)
        does; `outcome` then waits for the final answer."""
        uri = f"sip:{number}@{self.domain}"
        call_id = secrets.token_hex(8)
        self._invited[call_id] = uri
        self.send(self._request("INVITE", uri, uri, call_id,
                                "Content-Type: application/sdp\r\n" + headers, SDP))

    def outcome(self, timeout: float = 5.0) -> int:
        """The final status of the call last dialled."""
        if self._early is not None:
            status, self._early = self._early, None
            return status
        while (answer := self.receive(timeout)) is not None:
            if answer.status < 200:
                continue
            self._ack_refusal(answer)
            taken = (answer.header("call-id"), answer.header("cseq"))
            if taken in self._answered:  # the proxy repeating an answer already taken
                continue
            self._answered.add(taken)
            self._last = answer
            return answer.status
        raise TimeoutError("the call got no final answer")

    def _ack_refusal(self, answer: Message) -> None:
        """ACK a final refusal of an INVITE, as a phone must (RFC 3261 17.1.1.3).

        Unacknowledged, the proxy repeats the refusal for half a minute, and a repeat could
        be taken for the answer to the next call.
        """
        number, _, method = answer.header("cseq").partition(" ")
        uri = self._invited.get(answer.header("call-id"))
        if method != "INVITE" or answer.status < 300 or uri is None:
            return
        self.send(
            f"ACK {uri} SIP/2.0\r\nVia: {answer.header('via')}\r\nMax-Forwards: 70\r\n"
            f"From: {answer.header('from')}\r\nTo: {answer.header('to')}\r\n"
            f"Call-ID: {answer.header('call-id')}\r\nCSeq: {number} ACK\r\n"
            f"Content-Length: 0\r\n\r\n")

    def ring(self, timeout: float = 3.0) -> Message | None:
        """Wait for an incoming INVITE and say 180 Ringing, as a phone does; None if none."""
        while (incoming := self.receive(timeout)) is not None:
            if incoming.method == "INVITE":
                self.answer(incoming, 180, "Ringing")
                return incoming
        return None

    def answer(self, invite: Message, status: int, reason: str) -> None:
        """Answer an incoming INVITE with a final response."""
        to = invite.header("to")
        if ";tag=" not in to:
            to += f";tag={self.tag}"
        vias = "".join(f"Via: {via}\r\n" for via in invite.headers.get("via", []))
        self.send(
            f"SIP/2.0 {status} {reason}\r\n{vias}"
            f"From: {invite.header('from')}\r\nTo: {to}\r\n"
            f"Call-ID: {invite.header('call-id')}\r\nCSeq: {invite.header('cseq')}\r\n"
            f"Contact: <sip:{self.username}@{self.address}>\r\nContent-Length: 0\r\n\r\n")

    def accept(self, invite: Message) -> None:
        """Answer an incoming INVITE with 200 OK and an SDP answer, as a phone picking up.

        Its Record-Route goes back with it, so the caller's ACK and any BYE pass the proxy.
        """
        to = invite.header("to")
        if ";tag=" not in to:
            to += f";tag={self.tag}"
        vias = "".join(f"Via: {via}\r\n" for via in invite.headers.get("via", []))
        routes = "".join(f"Record-Route: {route}\r\n"
                         for route in invite.headers.get("record-route", []))
        self.send(
            f"SIP/2.0 200 OK\r\n{vias}{routes}"
            f"From: {invite.header('from')}\r\nTo: {to}\r\n"
            f"Call-ID: {invite.header('call-id')}\r\nCSeq: {invite.header('cseq')}\r\n"
            f"Contact: <sip:{self.username}@{self.address}>\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(SDP)}\r\n\r\n{SDP}")

    def ack(self) -> None:
        """ACK the 200 OK the last call got (see `outcome`), along its Record-Route."""
        self._in_dialog("ACK", int(self._last.header("cseq").split()[0]))

    def hang_up(self) -> None:
        """End the call last answered with a BYE; `outcome` then waits for its answer."""
        self.cseq += 1
        self._in_dialog("BYE", self.cseq)

    def hang_up_answered(self, invite: Message) -> None:
        """End a call this phone answered (`accept`) with a BYE; `outcome` then waits for
        its answer."""
        routes = "".join(f"Route: {uri}\r\n" for header in invite.headers.get("record-route", [])
                         for uri in re.findall(r"<[^>]+>", header))
        to = invite.header("to")
        if ";tag=" not in to:
            to += f";tag={self.tag}"
        self.cseq += 1
        branch = "z9hG4bK" + secrets.token_hex(6)
        self.send(
            f"BYE {_uri(invite.header('contact'))} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {self.address};branch={branch};rport\r\n{routes}"
            f"Max-Forwards: 70\r\nFrom: {to}\r\nTo: {invite.header('from')}\r\n"
            f"Call-ID: {invite.header('call-id')}\r\nCSeq: {self.cseq} BYE\r\n"
            f"Content-Length: 0\r\n\r\n")

    def _in_dialog(self, method: str, number: int) -> None:
        """Send `method` within the call the last 200 OK set up, along its Record-Route."""
        answer = self._last
        assert answer.status == 200, answer.first_line
        target = _uri(answer.header("contact"))
        recorded = [uri for header in answer.headers.get("record-route", [])
                    for uri in re.findall(r"<[^>]+>", header)]
        routes = "".join(f"Route: {uri}\r\n" for uri in reversed(recorded))
        branch = "z9hG4bK" + secrets.token_hex(6)
        self.send(
            f"{method} {target} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {self.address};branch={branch};rport\r\n{routes}"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:{self.username}@{self.domain}>;tag={self.tag}\r\n"
            f"To: {answer.header('to')}\r\nCall-ID: {answer.header('call-id')}\r\n"
            f"CSeq: {number} {method}\r\nContent-Length: 0\r\n\r\n")

    def hung_up(self, timeout: float = 10.0, confirm: bool = True) -> Message | None:
        """Wait up to `timeout` seconds for a BYE; None if none came. It is confirmed at once
        (200 OK) unless `confirm` is False: then `confirm_bye` does it later."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            incoming = self.receive(left)
            if incoming is None:
                return None
            if incoming.method == "BYE":
                if confirm:
                    self.confirm_bye(incoming)
                return incoming
        return None

    def confirm_bye(self, bye: Message) -> None:
        """Answer a BYE with 200 OK."""
        vias = "".join(f"Via: {via}\r\n" for via in bye.headers.get("via", []))
        self.send(
            f"SIP/2.0 200 OK\r\n{vias}"
            f"From: {bye.header('from')}\r\nTo: {bye.header('to')}\r\n"
            f"Call-ID: {bye.header('call-id')}\r\n"
            f"CSeq: {bye.header('cseq')}\r\nContent-Length: 0\r\n\r\n")

    def _final(self) -> Message:
        """The next final response (1xx are skipped)."""
        while True:
            answer = self.receive()
            if answer is None:
                raise TimeoutError("no answer from the proxy")
            if answer.status >= 200:
                return answer


#: A minimal audio offer for test calls.
SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 0\r\n")


def _param(header: str, name: str) -> str:
    """A quoted parameter of an authentication header."""
    found = re.search(rf'{name}="([^"]*)"', header)
    return found.group(1) if found else ""


def _uri(header: str) -> str:
    """The URI of a name-addr header value (Contact, Route)."""
    found = re.search(r"<([^>]*)>", header)
    return found.group(1) if found else header.split(";")[0].strip()
