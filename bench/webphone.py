"""The Web phone's call set-up and media start: INVITE -> ringing in the browser, answer -> audio.

usage (from the project root):  python -m bench.webphone [--calls 20] [--out DIR]

The Web phone site of the browser tests (tests/support/webphone_site.py: Kamailio with WSS and
rtpengine, agentdesk with its agents) in a temporary folder; one headless Chromium with the
WEB agent's /my/phone registered over WSS (its sound turned on, as a user's press does). A
desk phone on plain UDP (`Caller`, registered as the DESK agent) calls the WEB extension,
--calls times, one call at a time. Per call: the authenticated INVITE (after the 407) -> the
page shows #incoming; the page's "Nghe" pressed -> first RTP packet at the desk phone, and ->
first inbound audio packet in the browser (the desk phone sends 20 ms PCMU packets from the
200 OK on). Then the desk phone hangs up and the next call waits until the page is idle.
Prints a markdown summary (p50/p99 per figure, failures, rtpengine's RSS and Kamailio's PSS
before and after), kept in bench/out/webphone-<time>/ with results.jsonl, summary.json and the
logs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from bench.measure import pct
from bench.run import Recorder, code_version, fmt
from bench.sip import kamailio_pids, memory_mb
from bench.stack import child_pids, cpu_mloops, exit_on_sigterm, loadavg
from tests.support.apps import PG_ADMIN_URL
from tests.support.browser import CHROMIUM
from tests.support.pbx import Rtpengine
from tests.support.sip import Message, Phone, md5, parse
from tests.support.webphone_site import (
    DESK,
    REGISTERED,
    WEB,
    Site,
    browser_args,
    phone_page,
    serving_site,
)

PROJECT = Path(__file__).resolve().parent.parent
#: Linux's SO_TIMESTAMPNS (Python does not name it): the kernel's receive time of each
#: datagram (CLOCK_REALTIME, as time.time()), whatever the moment the bench reads it.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
#: The payload types offered (PCMU, PCMA) and a 20 ms packet of silence in each.
SILENCE = {0: b"\xff" * 160, 8: b"\xd5" * 160}
#: How often the page polls getStats() for the first inbound audio packet, ms.
STATS_POLL_MS = 10
#: What the page records, in its own clock (performance.timeOrigin + performance.now(), ms
#: since the epoch): when #incoming is shown (a MutationObserver), when "Nghe" is pressed (a
#: capturing click listener, before the page's own), then, polling the newest peer connection
#: made since the press: when it is connected (ICE and DTLS done), the first getStats() whose
#: inbound-rtp audio report counts packets (packetsReceived, lastPacketReceivedTimestamp), and
#: when its remote audio track unmutes (Chromium does on the first packet).
PAGE_HOOKS = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const bench = window.__bench = {
    ringingAt: null, answeredAt: null, connectedAt: null, unmutedAt: null, audio: null,
    watching: false,
    reset() {
      Object.assign(bench, { ringingAt: null, answeredAt: null, connectedAt: null,
                             unmutedAt: null, audio: null, watching: false });
    },
  };
  const watchMedia = (firstIndex) => {
    const deadline = now() + 20000;
    let connection = null;
    const tick = async () => {
      if (!bench.watching) { return; }
      if (!connection && window.__peerConnections.length > firstIndex) {
        connection = window.__peerConnections[window.__peerConnections.length - 1];
        const connected = () => {
          if (bench.connectedAt === null && connection.connectionState === "connected") {
            bench.connectedAt = now();
          }
        };
        connection.addEventListener("connectionstatechange", connected);
        connected();
        // Only an unmute seen happening counts (a track found unmuted gives no time).
        const hook = (track) => {
          if (!track || track.kind !== "audio" || track.__benchHooked) { return; }
          track.__benchHooked = true;
          track.addEventListener("unmute", () => {
            if (bench.unmutedAt === null) { bench.unmutedAt = now(); }
          });
        };
        connection.getReceivers().forEach((receiver) => hook(receiver.track));
        connection.addEventListener("track", (event) => hook(event.track));
      }
      if (connection) {
        const stats = await connection.getStats();
        const polledAt = now();
        stats.forEach((report) => {
          if (bench.audio === null && report.type === "inbound-rtp" && report.kind === "audio"
              && report.packetsReceived > 0) {
            bench.audio = { polledAt, packets: report.packetsReceived,
                            lastPacketAt: report.lastPacketReceivedTimestamp,
                            statsAt: report.timestamp };
          }
        });
      }
      if (bench.audio === null && now() < deadline) { setTimeout(tick, POLL_MS); }
    };
    tick();
  };
  document.addEventListener("click", (event) => {
    if (bench.answeredAt === null && event.target.closest && event.target.closest("#answer")) {
      bench.answeredAt = now();
      bench.watching = true;
      watchMedia(window.__peerConnections.length);
    }
  }, { capture: true });
  document.addEventListener("DOMContentLoaded", () => {
    const incoming = document.getElementById("incoming");
    if (!incoming) { return; }
    new MutationObserver(() => {
      if (!incoming.hidden && bench.ringingAt === null) { bench.ringingAt = now(); }
    }).observe(incoming, { attributes: true, attributeFilter: ["hidden"] });
  });
})();
""".replace("POLL_MS", str(STATS_POLL_MS))
#: Whether the page is idle: no call, nothing ringing, every peer connection closed, registered.
PAGE_IDLE = """() => {
  const phone = document.getElementById("phone");
  return (phone.dataset.call || "none") === "none"
    && document.getElementById("incoming").hidden
    && window.__peerConnections.every((made) => made.connectionState === "closed")
    && document.getElementById("phone-status").dataset.state === "registered";
}"""
#: How long the page and rtpengine may take to let a call go before the next one.
IDLE_TIMEOUT_S = 20.0
#: The page's clock, ms since the epoch.
PAGE_NOW = "() => performance.timeOrigin + performance.now()"


# -- the desk phone ---------------------------------------------------------------------------


def timestamped(sock: socket.socket) -> socket.socket:
    """`sock`, with the kernel's receive time on each datagram."""
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    return sock


def receive_stamped(sock: socket.socket, timeout: float) -> tuple[bytes, float] | None:
    """The next datagram and the kernel's time of its arrival (as time.time()), or None."""
    sock.settimeout(timeout)
    try:
        data, ancillary, _, _ = sock.recvmsg(65535, socket.CMSG_SPACE(16))
    except TimeoutError:
        return None
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
            seconds, nanoseconds = struct.unpack("qq", value[:16])
            return data, seconds + nanoseconds / 1e9
    return data, time.time()


def is_rtp(data: bytes) -> bool:
    """Whether a datagram is RTP (version 2, not one of RTCP's packet types 200-204)."""
    return len(data) >= 12 and data[0] >> 6 == 2 and not 200 <= data[1] <= 204


def sdp_offer(port: int) -> str:
    """An audio offer from 127.0.0.1:`port`: PCMU and PCMA, 20 ms packets."""
    session = secrets.randbelow(2**31)
    return ("v=0\r\n"
            f"o=- {session} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
            "a=ptime:20\r\na=sendrecv\r\n")


def media_of(sdp: str) -> tuple[tuple[str, int], int]:
    """Where an SDP answer wants its audio, and its first payload type."""
    media = re.search(r"^m=audio (\d+) [A-Z/]+ (\d+)", sdp, re.M)
    hosts = re.findall(r"^c=IN IP4 (\S+)", sdp, re.M)
    if media is None or not hosts:
        raise ValueError(f"no audio in the answer:\n{sdp}")
    # A media-level c= line (after m=) wins over the session's.
    return (hosts[-1], int(media.group(1))), int(media.group(2))


@dataclass
class Leg:
    """One call from the desk phone: what was sent, what came back and when (time.time())."""

    number: str
    rtp: socket.socket
    invite: Message
    sent_at: float = math.nan
    ringing_at: float = math.nan
    answered_at: float = math.nan
    first_sent_at: float = math.nan
    status: int = 0
    answer: Message | None = None
    final: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    sent_packets: int = 0


class Caller(Phone):
    """A desk phone on plain UDP that calls, ACKs, and sends 20 ms audio from the 200 OK on."""

    def __post_init__(self) -> None:
        super().__post_init__()
        # Arrival times from the kernel: a busy bench thread reads late, the stamp is right.
        timestamped(self.sock)

    def check_timestamps(self, timeout: float = 5.0) -> float:
        """The kernel's stamping error on a datagram to itself, s, once it stamps arrivals."""
        # Linux turns stamping on a moment after the first socket asks: until then a datagram
        # is stamped when it is read.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            timestamped(probe).bind(("127.0.0.1", 0))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                sent = time.time()
                probe.sendto(b"probe", probe.getsockname())
                time.sleep(0.05)
                got = receive_stamped(probe, 1.0)
                if got is not None and got[1] - sent < 0.01:
                    return got[1] - sent
        raise RuntimeError("the kernel does not timestamp received datagrams (SO_TIMESTAMPNS)")

    def place(self, number: str, timeout: float = 5.0) -> Leg:
        """INVITE `number` with credentials after the 407 (`sent_at`); a thread does the rest."""
        rtp = timestamped(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        rtp.bind(("127.0.0.1", 0))
        uri = f"sip:{number}@{self.domain}"
        call_id = secrets.token_hex(8)
        body = sdp_offer(rtp.getsockname()[1])
        sdp = "Content-Type: application/sdp\r\n"
        first = self._request("INVITE", uri, uri, call_id, sdp, body)
        self.send(first)
        challenge = self._final_within(call_id, timeout)
        if challenge.status != 407:
            rtp.close()
            raise RuntimeError(f"the first INVITE got {challenge.first_line}, not 407")
        self._ack_failure(parse(first.encode()), challenge)
        header = challenge.header("proxy-authenticate")
        realm, nonce = _param(header, "realm"), _param(header, "nonce")
        ha1 = md5(f"{self.username}:{realm}:{self.password}")
        response = md5(f"{ha1}:{nonce}:{md5(f'INVITE:{uri}')}")
        auth = (f'Proxy-Authorization: Digest username="{self.username}", realm="{realm}", '
                f'nonce="{nonce}", uri="{uri}", response="{response}", algorithm=MD5\r\n')
        text = self._request("INVITE", uri, uri, call_id, sdp + auth, body)
        leg = Leg(number, rtp, parse(text.encode()))
        leg.sent_at = time.time()
        self.send(text)
        listener = threading.Thread(target=self._listen, args=(leg,), daemon=True)
        leg.threads.append(listener)
        listener.start()
        return leg

    def _final_within(self, call_id: str, timeout: float) -> Message:
        """The next final response to an INVITE of `call_id`, within `timeout` seconds."""
        # Anything else is a late leftover of the call before (a retransmission).
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            answer = self.receive(left)
            if (answer is not None and answer.status >= 200
                    and answer.header("call-id") == call_id
                    and answer.header("cseq").endswith(" INVITE")):
                return answer
        raise TimeoutError("no final answer from the proxy")

    def _listen(self, leg: Leg) -> None:
        """Handle what comes back for `leg` (180, 200, refusals, BYE) until it is done."""
        while not leg.done.is_set():
            got = receive_stamped(self.sock, 0.2)
            if got is None:
                continue
            data, at = got
            message = parse(data)
            method = message.header("cseq").partition(" ")[2]
            ours = message.header("call-id") == leg.invite.header("call-id")
            if message.method == "BYE":
                self.confirm_bye(message)
                if ours:
                    leg.ended.set()
            elif not ours:  # a late retransmission from the call before
                continue
            elif message.status and method == "INVITE":
                if message.status in (180, 183) and math.isnan(leg.ringing_at):
                    leg.ringing_at = at
                elif 200 <= message.status < 300:
                    if leg.answer is None:
                        leg.answered_at, leg.answer, leg.status = at, message, message.status
                        self._last = message
                        self.ack()
                        self._start_audio(leg, message)
                        leg.final.set()
                    else:  # a retransmitted 200: our ACK was lost
                        self.ack()
                elif message.status >= 300:
                    leg.status = message.status
                    self._ack_failure(leg.invite, message)
                    leg.final.set()
            elif message.status and (method == "BYE"
                                     or (method == "CANCEL" and leg.status >= 300)):
                leg.ended.set()

    def _start_audio(self, leg: Leg, answer: Message) -> None:
        """Send 20 ms packets to where the answer's SDP says, until the leg is done."""
        target, payload_type = media_of(answer.body)
        sender = threading.Thread(target=self._send_audio,
                                  args=(leg, target, payload_type), daemon=True)
        leg.threads.append(sender)
        sender.start()

    def _send_audio(self, leg: Leg, target: tuple[str, int], payload_type: int) -> None:
        """RTP every 20 ms (on a fixed schedule) from the leg's RTP socket."""
        sequence, stamp, ssrc = (secrets.randbelow(2**16), secrets.randbelow(2**32),
                                 secrets.randbelow(2**32))
        payload = SILENCE.get(payload_type, SILENCE[0])
        due = time.monotonic()
        while not leg.done.is_set():
            header = struct.pack("!BBHII", 0x80, payload_type, sequence % 2**16,
                                 stamp % 2**32, ssrc)
            if math.isnan(leg.first_sent_at):
                leg.first_sent_at = time.time()
            with contextlib.suppress(OSError):
                leg.rtp.sendto(header + payload, target)
            leg.sent_packets += 1
            sequence, stamp, due = sequence + 1, stamp + 160, due + 0.020
            leg.done.wait(max(0.0, due - time.monotonic()))

    def first_rtp(self, leg: Leg, timeout: float) -> float:
        """When the first RTP packet of the call reached the leg's RTP socket (time.time())."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            got = receive_stamped(leg.rtp, left)
            if got is not None and is_rtp(got[0]):
                return got[1]
        raise TimeoutError(f"no RTP at the desk phone within {timeout} s")

    def cancel(self, leg: Leg) -> None:
        """CANCEL the leg's INVITE (not answered yet)."""
        invite = leg.invite
        number = invite.header("cseq").split()[0]
        self.send(f"CANCEL {invite.first_line.split()[1]} SIP/2.0\r\n"
                  f"Via: {invite.header('via')}\r\nMax-Forwards: 70\r\n"
                  f"From: {invite.header('from')}\r\nTo: {invite.header('to')}\r\n"
                  f"Call-ID: {invite.header('call-id')}\r\nCSeq: {number} CANCEL\r\n"
                  "Content-Length: 0\r\n\r\n")

    def _ack_failure(self, invite: Message, answer: Message) -> None:
        """ACK a refusal of `invite` (same branch, the refusal's To)."""
        number = invite.header("cseq").split()[0]
        self.send(f"ACK {invite.first_line.split()[1]} SIP/2.0\r\n"
                  f"Via: {invite.header('via')}\r\nMax-Forwards: 70\r\n"
                  f"From: {invite.header('from')}\r\nTo: {answer.header('to')}\r\n"
                  f"Call-ID: {invite.header('call-id')}\r\nCSeq: {number} ACK\r\n"
                  "Content-Length: 0\r\n\r\n")

    def finish(self, leg: Leg, timeout: float = 5.0) -> None:
        """End the leg however far it got (BYE, or CANCEL), bounded; stop its threads."""
        try:
            if leg.answer is not None and not leg.ended.is_set():
                self.hang_up()
                leg.ended.wait(timeout)
            elif leg.answer is None and not leg.final.is_set():
                self.cancel(leg)
                leg.final.wait(timeout)
                if leg.answer is not None:  # answered meanwhile
                    self.hang_up()
                    leg.ended.wait(timeout)
        finally:
            leg.done.set()
            for thread in leg.threads:
                thread.join(timeout)
            leg.rtp.close()


def _param(header: str, name: str) -> str:
    """A quoted parameter of an authentication header."""
    found = re.search(rf'{name}="([^"]*)"', header)
    return found.group(1) if found else ""


# -- the page ---------------------------------------------------------------------------------


def clock_offset(page: Page, samples: int = 5) -> tuple[float, float]:
    """The page's clock minus Python's and its uncertainty, ms (the quickest of `samples`)."""
    best: tuple[float, float] | None = None
    for _ in range(samples):
        before = time.time()
        in_page = float(page.evaluate(PAGE_NOW))
        after = time.time()
        half = (after - before) * 500
        offset = in_page - (before + after) * 500
        if best is None or half < best[1]:
            best = (offset, half)
    assert best is not None
    return best


def wait_page(page: Page, expression: str, timeout: float) -> None:
    """Wait until `expression` (a page function) is true, within `timeout` seconds."""
    try:
        page.wait_for_function(expression, timeout=timeout * 1000, polling=20)
    except PlaywrightError as error:
        raise TimeoutError(f"{expression!r} not true within {timeout} s") from error


def rtpengine_calls(engine: Rtpengine) -> list[str]:
    """The calls rtpengine relays media for now."""
    calls = engine.command("list").get("calls", [])
    return [str(call) for call in calls] if isinstance(calls, list) else []


def wait_until(check: Callable[[], bool], what: str, timeout: float) -> None:
    """Poll `check` every 50 ms until true; TimeoutError naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout} s")
        time.sleep(0.05)


# -- the run ----------------------------------------------------------------------------------

#: (figure, meaning, target p99 ms or None) in the summary's order.
FIGURES: tuple[tuple[str, str, float | None], ...] = (
    ("invite_to_ringing_ms", "authenticated INVITE sent -> #incoming shown in the page", 500),
    ("answer_to_audio_at_caller_ms",
     "'Nghe' pressed -> first RTP packet at the desk phone (browser -> phone)", 500),
    ("answer_to_audio_in_browser_ms",
     "'Nghe' pressed -> first inbound audio packet in the browser (phone -> browser)", 500),
    ("invite_to_180_ms", "authenticated INVITE sent -> 180 Ringing at the desk phone", None),
    ("answer_to_200_ms", "'Nghe' pressed -> 200 OK at the desk phone", None),
    ("answer_to_connected_ms", "'Nghe' pressed -> peer connection connected (ICE, DTLS)",
     None),
    ("sent_to_audio_in_browser_ms",
     "desk phone's first RTP sent (on the 200 OK) -> first audio packet in the browser", None),
    ("answer_to_unmute_ms", "'Nghe' pressed -> the remote audio track unmutes", None),
    ("unmute_minus_first_packet_ms",
     "the track's unmute - the first packet's arrival from getStats() (a cross-check)", None),
    ("clock_offset_ms", "page clock - Python clock (midpoint of an evaluate)", None),
)


class WebphoneBench:
    """The state of one run: output folder, recorder, arguments, per-call records."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Prepare the output folder from `args`."""
        self.args = args
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.out = (Path(args.out).resolve() if args.out
                    else PROJECT / "bench" / "out" / f"webphone-{stamp}")
        self.out.mkdir(parents=True, exist_ok=True)
        self.logs = self.out / "logs"
        self.logs.mkdir(exist_ok=True)
        self.record = Recorder(self.out / "results.jsonl")
        self.calls: list[dict[str, Any]] = []
        self.memory: dict[str, float] = {}
        #: The site's databases (Kamailio's, agentdesk's), dropped at the end.
        self.databases: list[str] = []

    @staticmethod
    def rtpengine_rss(site: Site) -> float:
        """rtpengine's RSS now, MiB (its process and children)."""
        engine = site.rtpengine
        assert engine is not None and engine.pid is not None
        return memory_mb([engine.pid, *child_pids(engine.pid)])[0]

    def note_memory(self, site: Site, when: str) -> None:
        """rtpengine's RSS (its process and children) and Kamailio's RSS/PSS, now."""
        engine = site.rtpengine
        assert engine is not None and engine.pid is not None
        rss, pss = memory_mb([engine.pid, *child_pids(engine.pid)])
        self.memory[f"rtpengine_rss_mb_{when}"] = rss
        self.memory[f"rtpengine_pss_mb_{when}"] = pss
        rss, pss = memory_mb(kamailio_pids(site.kamailio))
        self.memory[f"kamailio_rss_mb_{when}"] = rss
        self.memory[f"kamailio_pss_mb_{when}"] = pss
        for name in ("rtpengine_rss_mb", "rtpengine_pss_mb", "kamailio_rss_mb",
                     "kamailio_pss_mb"):
            self.record(0, f"{name}_{when}", self.memory[f"{name}_{when}"])

    def one_call(self, number: int, caller: Caller, page: Page, site: Site) -> dict[str, Any]:
        """One call, measured; its record (with `failed` naming the step that failed)."""
        args = self.args
        record: dict[str, Any] = {"call": number, "failed": None}
        page.evaluate("() => window.__bench.reset()")
        offset, uncertainty = clock_offset(page)
        record |= {"clock_offset_ms": offset, "clock_uncertainty_ms": uncertainty}
        step = "INVITE"
        leg: Leg | None = None
        heard_at: float | None = None
        try:
            leg = caller.place(WEB)
            step = "ringing in the page"
            wait_page(page, "() => window.__bench.ringingAt !== null", args.step_timeout)
            time.sleep(args.answer_after)
            step = "pressing Nghe"
            page.get_by_role("button", name="Nghe").click(timeout=args.step_timeout * 1000)
            step = "200 OK at the desk phone"
            if not leg.final.wait(args.step_timeout) or leg.answer is None:
                raise RuntimeError(f"the call got {leg.status or 'no answer'}")
            step = "audio at the desk phone"
            heard_at = caller.first_rtp(leg, args.step_timeout)
            step = "audio in the browser"
            wait_page(page, "() => window.__bench.audio !== null", args.step_timeout)
            record["rtpengine_rss_mb_in_call"] = self.rtpengine_rss(site)
            time.sleep(args.talk)
            step = "hanging up"
            caller.finish(leg)
            if not leg.ended.is_set():
                raise RuntimeError("the BYE got no answer")
        except (TimeoutError, RuntimeError, PlaywrightError, OSError, ValueError) as error:
            record["failed"] = f"{step}: {str(error).splitlines()[0] if str(error) else error!r}"
        finally:
            if leg is not None and not leg.done.is_set():
                caller.finish(leg)
        marks = page.evaluate("() => ({ ...window.__bench, reset: undefined })")
        record["page"] = marks
        if leg is not None:
            record |= self._figures(leg, marks, heard_at)
        # The page's own end of the call, for the next one: idle and registered again, and
        # rtpengine has let the call go.
        try:
            wait_page(page, PAGE_IDLE, IDLE_TIMEOUT_S)
            assert site.rtpengine is not None
            engine = site.rtpengine
            wait_until(lambda: not rtpengine_calls(engine), "rtpengine to end the call",
                       IDLE_TIMEOUT_S)
        except TimeoutError as error:
            # Counted, and the page starts afresh (a stuck page would fail every later call).
            record["failed"] = record["failed"] or f"back to idle: {error}"
            page.reload()
            page.locator("#phone-status").filter(has_text=REGISTERED).wait_for(
                timeout=IDLE_TIMEOUT_S * 1000)
        return record

    @staticmethod
    def _figures(leg: Leg, marks: dict[str, Any], heard_at: float | None) -> dict[str, Any]:
        """Every figure of a call in ms; None where a step did not happen."""
        def ms(start: float | None, end: float | None) -> float | None:
            """`end` - `start` in ms (both ms since the epoch), None if either is missing."""
            if start is None or end is None or start != start or end != end:
                return None
            return end - start

        sent, ringing = leg.sent_at * 1000, leg.ringing_at * 1000
        answered = marks.get("answeredAt")
        audio = marks.get("audio") or {}
        # Chromium caches getStats() for 50 ms, so the first report that counts packets
        # often counts a few: the first one arrived 20 ms (the desk phone's pace) before the
        # next, so it arrived 20 ms per later packet before the last one's time.
        first_in_browser = None
        if audio.get("packets") and audio.get("lastPacketAt"):
            first_in_browser = audio["lastPacketAt"] - 20.0 * (audio["packets"] - 1)
        return {
            "invite_to_ringing_ms": ms(sent, marks.get("ringingAt")),
            "invite_to_180_ms": ms(sent, ringing),
            "answer_to_200_ms": ms(answered, leg.answered_at * 1000),
            "answer_to_connected_ms": ms(answered, marks.get("connectedAt")),
            "answer_to_audio_at_caller_ms": ms(answered,
                                               heard_at * 1000 if heard_at else None),
            "answer_to_audio_in_browser_ms": ms(answered, first_in_browser),
            "sent_to_audio_in_browser_ms": ms(leg.first_sent_at * 1000, first_in_browser),
            "answer_to_unmute_ms": ms(answered, marks.get("unmutedAt")),
            "unmute_minus_first_packet_ms": ms(first_in_browser, marks.get("unmutedAt")),
            "browser_packets_at_first_poll": audio.get("packets"),
            "status": leg.status,
            "packets_sent": leg.sent_packets,
        }

    def run(self) -> dict[str, Any]:
        """Stand the site up, make the calls; returns the summary (also written out)."""
        args = self.args
        load_before, mloops_before, code = loadavg(), cpu_mloops(), code_version()
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        with tempfile.TemporaryDirectory(prefix="bench-webphone-") as folder:
            try:
                browser_version = self._measure(Path(folder))
            finally:
                for log in ("kamailio.log", "rtpengine.log"):
                    with contextlib.suppress(OSError):
                        shutil.copy(Path(folder) / log, self.logs / log)
                self._drop_databases()
        summary = summarise(self.calls, self.memory, {
            "started": started, "load1_before": load_before, "load1_after": loadavg(),
            "cpu_mloops_before": mloops_before, "cpu_mloops_after": cpu_mloops(),
            "cpus": os.cpu_count() or 0, "code": code, "code_after": code_version(),
            "argv": " ".join(sys.argv[1:]), "calls": args.calls,
            "answer_after_s": args.answer_after, "talk_s": args.talk, "gap_s": args.gap,
            "stats_poll_ms": STATS_POLL_MS, "chromium": browser_version})
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        (self.out / "summary.md").write_text(render(summary))
        return summary

    def _measure(self, folder: Path) -> str:
        """The site, the browser, the page, the calls; returns Chromium's version."""
        args = self.args
        with serving_site(folder, no_answer_ms=args.no_answer_ms) as site, \
                sync_playwright() as playwright:
            self.databases = [site.kamailio.database_url.rsplit("/", 1)[1],
                              str(site.app.config["SQLALCHEMY_DATABASE_URI"]).rsplit("/", 1)[1]]
            browser: Browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=browser_args(site),
                timeout=60_000)
            version = browser.version
            caller = Caller(site.sip_usernames[DESK], site.passwords[DESK],
                            site.kamailio.domain, site.kamailio.sip)
            try:
                if caller.register() != 200:
                    raise RuntimeError("the desk phone could not register")
                self.record(0, "kernel_timestamp_error_ms", caller.check_timestamps() * 1000)
                with phone_page(browser, site, site.world.emails["requester"],
                                scripts=[PAGE_HOOKS]) as page:
                    # Sound on, as the user's press does (Chromium's autoplay policy).
                    sound = page.get_by_role("button", name="Bật chuông cuộc gọi đến")
                    if sound.is_visible():
                        sound.click()
                    self.record(0, "clock_offset_start_ms", clock_offset(page)[0])
                    self.note_memory(site, "before")
                    for number in range(1, args.calls + 1):
                        time.sleep(args.gap)
                        made = self.one_call(number, caller, page, site)
                        self.calls.append(made)
                        self._record_call(made)
                    self.note_memory(site, "after")
                    self.record(0, "clock_offset_end_ms", clock_offset(page)[0])
            finally:
                caller.close()
                # After a Ctrl-C the driver may be gone already (Chromium goes with it).
                with contextlib.suppress(PlaywrightError):
                    browser.close()
        return version

    def _record_call(self, made: dict[str, Any]) -> None:
        """Echo and keep one call's figures (a failed call as `failed` = 1)."""
        for name, _, _ in FIGURES:
            if made.get(name) is not None:
                self.record(made["call"], name, made[name])
        self.record(made["call"], "failed", 1 if made["failed"] else 0)
        if made["failed"]:
            print(f"  call {made['call']} FAILED at {made['failed']}", flush=True)

    def _drop_databases(self) -> None:
        """Drop the site's two databases (Kamailio's, agentdesk's)."""
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
            for name in self.databases:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def summarise(calls: Sequence[dict[str, Any]], memory: dict[str, float],
              env: dict[str, Any]) -> dict[str, Any]:
    """p50/p99/max of each figure over the calls that measured it, failures, verdicts."""
    figures = []
    for name, meaning, target in FIGURES:
        values = [call[name] for call in calls if call.get(name) is not None]
        p99 = pct(values, 99)
        verdict = "-"
        if target is not None:
            verdict = "met" if values and p99 <= target and not any(
                call["failed"] for call in calls) else "MISSED"
        figures.append({"figure": name, "meaning": meaning, "target_p99_ms": target,
                        "n": len(values), "p50": pct(values, 50), "p99": p99,
                        "min": min(values, default=math.nan),
                        "max": max(values, default=math.nan), "verdict": verdict})
    failed = [{"call": call["call"], "step": call["failed"]} for call in calls if call["failed"]]
    in_call = [call["rtpengine_rss_mb_in_call"] for call in calls
               if call.get("rtpengine_rss_mb_in_call") is not None]
    memory = {**memory, "rtpengine_rss_mb_in_call_max": max(in_call, default=math.nan)}
    offsets = [call["clock_offset_ms"] for call in calls]
    env = {**env, "clock_offset_max_ms": max(map(abs, offsets), default=math.nan),
           "clock_uncertainty_max_ms": max((call["clock_uncertainty_ms"] for call in calls),
                                           default=math.nan)}
    return {"figures": figures, "failed": failed, "made": len(calls), "memory": memory,
            "calls": list(calls), "env": env}


def render(summary: dict[str, Any]) -> str:
    """Markdown: the figures with their targets, failures, memory, each call, conditions."""
    env, memory = summary["env"], summary["memory"]
    lines = ["## Web phone: call set-up and media start", "",
             f"{summary['made']} calls, {len(summary['failed'])} failed. Times in ms; p50 and "
             "p99 by nearest rank (the p99 of fewer than 100 calls is their slowest).", "",
             "| figure | meaning | target | n | p50 | p99 | min | verdict |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    for figure in summary["figures"]:
        target = "-" if figure["target_p99_ms"] is None else f"p99 <= {figure['target_p99_ms']}"
        lines.append(f"| {figure['figure']} | {figure['meaning']} | {target} | {figure['n']} | "
                     f"{fmt(figure['p50'])} | {fmt(figure['p99'])} | {fmt(figure['min'])} | "
                     f"{figure['verdict']} |")
    lines += [""] + [f"* call {failure['call']} failed at {failure['step']}"
                     for failure in summary["failed"]]
    lines += [""] if summary["failed"] else []
    lines += ["| memory, MiB | before the calls | after |", "|---|---:|---:|"]
    for name in ("rtpengine_rss_mb", "rtpengine_pss_mb", "kamailio_rss_mb", "kamailio_pss_mb"):
        lines.append(f"| {name} | {fmt(memory.get(f'{name}_before'))} | "
                     f"{fmt(memory.get(f'{name}_after'))} |")
    lines.append(f"| rtpengine_rss_mb during a call (largest) | "
                 f"{fmt(memory['rtpengine_rss_mb_in_call_max'])} | |")
    columns = ("invite_to_ringing_ms", "invite_to_180_ms", "answer_to_200_ms",
               "answer_to_connected_ms", "answer_to_audio_at_caller_ms",
               "answer_to_audio_in_browser_ms", "sent_to_audio_in_browser_ms",
               "clock_offset_ms")
    lines += ["", "### Each call", "",
              "| call | " + " | ".join(columns) + " | failed |",
              "|---:|" + "---:|" * len(columns) + "---|"]
    for call in summary["calls"]:
        cells = " | ".join(fmt(call.get(column)) for column in columns)
        lines.append(f"| {call['call']} | {cells} | {call['failed'] or ''} |")
    lines += [
        "",
        f"Each call: the page's 'Nghe' pressed {env['answer_after_s']} s after it rang, the call "
        f"held {env['talk_s']} s after the audio started, {env['gap_s']} s between calls once "
        f"the page was idle; the page polled getStats() every {env['stats_poll_ms']} ms.",
        "rtpengine: VmRSS (and PSS) of its process and children; Kamailio: summed over every "
        "process (RSS counts the shared pool in each; PSS splits it).",
        f"Clocks: the page's clock and Python's differed by at most "
        f"{fmt(env['clock_offset_max_ms'])} ms before a call (each reading within "
        f"{fmt(env['clock_uncertainty_max_ms'])} ms); the page's times are used as they are.",
        f"env: started {env['started']}, load1 {env['load1_before']:.2f} -> "
        f"{env['load1_after']:.2f}, cpu_mloops {env['cpu_mloops_before']:.1f} -> "
        f"{env['cpu_mloops_after']:.1f}, {env['cpus']} CPUs, Chromium {env['chromium']} "
        "(headless)",
        f"code: {env['code']}" + (f" (at the end: {env['code_after']})"
                                  if env["code_after"] != env["code"] else ""),
        f"command: `python -m bench.webphone {env['argv']}`".replace(" `", "`").replace(
            "command:`", "command: `"),
        ""]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.webphone",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="calls made, one at a time")
    parser.add_argument("--out", help="output folder (default bench/out/webphone-<time>)")
    parser.add_argument("--answer-after", type=float, default=1.0,
                        help="seconds between the page ringing and pressing its 'Nghe'")
    parser.add_argument("--talk", type=float, default=1.0,
                        help="seconds a call lasts once the audio has started")
    parser.add_argument("--gap", type=float, default=2.0,
                        help="seconds between a call's end (page idle) and the next INVITE")
    parser.add_argument("--step-timeout", type=float, default=10.0,
                        help="seconds each step of a call may take before the call counts "
                             "as failed")
    parser.add_argument("--no-answer-ms", type=int, default=20000,
                        help="Kamailio's NO_ANSWER_MS (the shipped default): ringing that "
                             "long ends the call")
    args = parser.parse_args(argv)
    if args.calls < 1:
        parser.error("--calls must be at least 1")
    return args


def main() -> None:
    """Run the bench and print the summary."""
    exit_on_sigterm()
    # The site's server logs every request of the page otherwise.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run)")
    # Ctrl-C reaches Playwright's driver too, which closes Chromium: whatever the browser
    # then fails with is the interruption, reported as such.
    interrupted = threading.Event()

    def interrupt(signum: int, frame: object) -> None:
        interrupted.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    bench = WebphoneBench(parse_args())
    try:
        summary = bench.run()
    except (KeyboardInterrupt, PlaywrightError):
        if not interrupted.is_set():
            raise
        raise SystemExit(f"interrupted; figures so far: {bench.out}/results.jsonl") from None
    print(render(summary))
    print(f"(results: {bench.out})")


if __name__ == "__main__":
    main()
