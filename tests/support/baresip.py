"""Driving a running baresip over its ctrl_tcp socket (netstring-framed JSON)."""

from __future__ import annotations

import json
import re
import secrets
import socket
from pathlib import Path

from tests.support.processes import wait_for


class Baresip:
    """A baresip process the test started, reached at `address` through `control`."""

    def __init__(self, control: socket.socket, address: tuple[str, int], log: Path) -> None:
        self.log = log
        self.control = control
        self.control.settimeout(5)
        wait_for(lambda: self.control.connect_ex(address) == 0,
                 f"baresip's control socket (log: {log})", timeout=10)
        self.buffer = b""

    def command(self, command: str, params: str = "") -> dict[str, object]:
        """Run a baresip command; its response (events that arrive meanwhile are skipped)."""
        token = secrets.token_hex(4)
        payload = json.dumps({"command": command, "params": params, "token": token}).encode()
        self.control.sendall(b"%d:%s," % (len(payload), payload))
        while True:
            message = self._next()
            if message.get("response") and message.get("token") == token:
                return message

    def event(self, kind: str, timeout: float = 10.0) -> dict[str, object]:
        """The next event of `kind` (CALL_ESTABLISHED, CALL_CLOSED...)."""
        self.control.settimeout(timeout)
        try:
            while True:
                message = self._next()
                if message.get("event") and message.get("type") == kind:
                    return message
        finally:
            self.control.settimeout(5)

    def rtp_received(self) -> int:
        """RTP packets received in the current call (audio_debug's receive counters)."""
        report = str(self.command("audio_debug").get("data", ""))
        return sum(int(count) for count in re.findall(r"rcvd=(\d+)", report))

    def trace(self) -> str:
        """What baresip has logged so far (with -s: every SIP message it sent or got)."""
        return self.log.read_text(errors="replace")

    def _next(self) -> dict[str, object]:
        """The next netstring message from baresip."""
        while True:
            length, colon, rest = self.buffer.partition(b":")
            if colon and len(rest) > int(length):
                self.buffer = rest[int(length) + 1:]
                decoded: dict[str, object] = json.loads(rest[:int(length)])
                return decoded
            chunk = self.control.recv(65536)
            if not chunk:
                raise ConnectionError("baresip closed its control socket")
            self.buffer += chunk
