"""A real SMTP server for the tests (aiosmtpd on a free loopback port)."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler

from tests.support.processes import free_port


class Inbox(MessageHandler):
    """Keeps every message the SMTP server receives."""

    def __init__(self) -> None:
        super().__init__(email.message.Message)
        self.messages: list[Message] = []

    def handle_message(self, message: Message) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    """A real SMTP server on a free loopback port."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


POISONED_EMAIL = "mail\npoison@x.vn"
