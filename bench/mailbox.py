"""An SMTP server in the bench process that keeps every message with the time it arrived."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from functools import partial
from typing import Any

from aiosmtpd.controller import Controller

from tasks import mail_text

#: The notice a requester gets once a ticket is provisioned (its event action).
COMPLETE = "complete"


@dataclass(frozen=True)
class Letter:
    """One message as the server received it."""

    arrived: float  # time.time() when DATA was complete
    recipients: tuple[str, ...]
    message_id: str
    subject: str

    @property
    def is_credential_link(self) -> bool:
        """The letter bringing an employee the one-time link to a SIP password."""
        return self.message_id.startswith("<credential-")

    @property
    def is_notice(self) -> bool:
        """A notice's email (submitted, approved, provisioned, ...)."""
        return self.message_id.startswith("<notification-")


def complete_subjects(ticket_id: int) -> set[str]:
    """The subjects of the "provisioned" notice of `ticket_id`, in every letter language."""
    return {_one_line(mail_text.translated(mail_text.SUBJECTS[COMPLETE], language)
                      % {"id": ticket_id}) for language in mail_text.LANGUAGES}


class Mailbox:
    """aiosmtpd handler: accepts every message and keeps its envelope and headers."""

    def __init__(self) -> None:
        """An empty mailbox."""
        self.lock = threading.Condition()
        self.letters: list[Letter] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message (aiosmtpd calls this once DATA is complete)."""
        arrived = time.time()
        parsed = message_from_bytes(envelope.original_content or envelope.content,
                                    policy=policy.default)
        letter = Letter(arrived, tuple(address.lower() for address in envelope.rcpt_tos),
                        str(parsed.get("Message-ID", "")), str(parsed.get("Subject", "")))
        with self.lock:
            self.letters.append(letter)
            self.lock.notify_all()
        return "250 OK"

    def snapshot(self) -> list[Letter]:
        """Every letter so far."""
        with self.lock:
            return list(self.letters)

    def clear(self) -> None:
        """Forget the letters so far."""
        with self.lock:
            self.letters.clear()

    def provisioned_mail(self, ticket_id: int, employee_email: str) -> dict[str, float]:
        """Arrival times of the ticket's credential link letter and "provisioned" notice."""
        subjects = complete_subjects(ticket_id)
        employee = employee_email.lower()
        found: dict[str, float] = {}
        for letter in self.snapshot():
            if letter.is_credential_link and employee in letter.recipients:
                found.setdefault("link", letter.arrived)
            elif letter.is_notice and _one_line(letter.subject) in subjects:
                found.setdefault("notice", letter.arrived)
        return found


    def wait_provisioned_mail(self, ticket_id: int, employee_email: str,
                              timeout: float) -> dict[str, float]:
        """`provisioned_mail` once both letters came, or as it is after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                seen = len(self.letters)
            found = self.provisioned_mail(ticket_id, employee_email)
            left = deadline - time.monotonic()
            if len(found) == 2 or left <= 0:
                return found
            with self.lock:
                # Woken by the next letter (no busy polling beside the measured stack).
                self.lock.wait_for(partial(self._more_than, seen), timeout=left)

    def _more_than(self, count: int) -> bool:
        """Whether more than `count` letters came (called with the lock held)."""
        return len(self.letters) > count


def _one_line(text: str) -> str:
    """A decoded header without the folding whitespace of long lines."""
    return re.sub(r"\s+", " ", text).strip()


@contextmanager
def smtp_server(port: int) -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1:`port` for the duration of the block."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
