"""Driving a real Linphone in the tests: linphonec, liblinphone's console app (Debian's
linphone-cli), with a HOME and a configuration file of its own, fed commands on its stdin.

What was found by running it (linphone-cli 5.1.65):
- liblinphone keeps its databases in ~/.local/share/linphone and, when that folder is
  missing, never finishes starting (no remote provisioning, no registration): it is made here;
- `[misc] config-uri` in the configuration file is fetched over HTTP(S) at every start, before
  anything registers, with `User-Agent` set to what the app last saved in `[sip] user_agent`
  ("Unknown" on its very first start, "Linphonec/5.1.65" after it) and no `Accept` header; the
  XML's entries are written into the configuration file, and `[misc] transient_provisioning=1`
  makes it drop config-uri afterwards; a refused fetch (410) leaves the saved account as it is;
- with stdin a pipe it runs headless (commands one a line, end of input quits it), and it
  answers calls (`-a`) with no sound card at all, saying so on its console;
- the console's `param` command only changes settings that exist already.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.processes import stop

LINPHONEC = "/usr/bin/linphonec"
#: The app's own settings (no account): SIP over UDP only, on a port of the system's choosing
#: (another test or worker may hold 5060), media ports likewise, no video.
APP_SETTINGS = """[sip]
sip_port=-1
sip_tcp_port=0
sip_tls_port=0
[rtp]
audio_rtp_port=-1
video_rtp_port=-1
text_rtp_port=-1
[video]
capture=0
display=0
"""


class Linphone:
    """One installation of Linphone: its HOME, configuration file, console and debug logs."""

    def __init__(self, folder: Path) -> None:
        if not os.path.exists(LINPHONEC):
            raise RuntimeError("linphonec is missing: run .ci/run (it installs the Debian "
                               "package linphone-cli)")
        self.folder = folder
        self.home = folder / "home"
        self.config = folder / "linphonerc"
        self.console_log = folder / "console.log"
        #: liblinphone's debug log of the latest start (each start writes its own file).
        self.debug_log = folder / "linphone-0.log"
        self.starts = 0
        # Without this folder liblinphone cannot open its database and never gets going.
        (self.home / ".local" / "share" / "linphone").mkdir(parents=True, exist_ok=True)
        self.config.write_text(APP_SETTINGS)
        self.process: subprocess.Popen[bytes] | None = None

    @contextmanager
    def running(self, autoanswer: bool = False) -> Iterator[Linphone]:
        """linphonec started on this installation (answering calls itself with `autoanswer`);
        asked to quit on the way out, its process group killed if it does not."""
        self.starts += 1
        self.debug_log = self.folder / f"linphone-{self.starts}.log"
        command = [LINPHONEC, "-c", str(self.config), "-d", "6", "-l", str(self.debug_log)]
        if autoanswer:
            command.append("-a")
        with self.console_log.open("ab") as console:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=console, stderr=subprocess.STDOUT,
                env={**os.environ, "HOME": str(self.home)}, start_new_session=True)
        try:
            yield self
            self.quit()
        finally:
            stop(self.process)
            self.process = None

    def command(self, line: str) -> None:
        """Type a console command (`help` in linphonec lists them)."""
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def quit(self, timeout: float = 60.0) -> int:
        """Quit as a person would, so the configuration is saved; its exit status."""
        assert self.process is not None and self.process.stdin is not None
        if self.process.poll() is None:
            self.command("quit")
            self.process.stdin.close()
        return self.process.wait(timeout)

    def set(self, section: str, key: str, value: str) -> None:
        """Write one setting into the saved configuration while the app is not running (its
        console's `param` command only changes keys that exist already)."""
        assert self.process is None, "linphonec would overwrite it when it quits"
        lines = self.config.read_text().splitlines()
        start = lines.index(f"[{section}]") + 1 if f"[{section}]" in lines else None
        if start is None:
            lines += ["", f"[{section}]", f"{key}={value}"]
        else:
            end = next((index for index in range(start, len(lines))
                        if lines[index].startswith("[")), len(lines))
            lines = [line for index, line in enumerate(lines)
                     if not (start <= index < end and line.startswith(f"{key}="))]
            lines.insert(start, f"{key}={value}")
        self.config.write_text("\n".join(lines) + "\n")

    def console(self) -> str:
        """What linphonec printed so far."""
        return self.console_log.read_text(errors="replace")

    def saved(self) -> str:
        """The configuration file as the app saved it."""
        return self.config.read_text(errors="replace")
