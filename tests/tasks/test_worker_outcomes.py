"""Actors report their outcome to the metrics, not to Dramatiq, which would warn of it."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from tasks.metrics import PROVISIONING_ATTEMPTS
from tests.support.world import World, provision, submit
from web.extensions import db
from workflow.models import Ticket


def test_a_provisioned_ticket_is_counted_without_a_warning_from_dramatiq(
    app: Flask, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a submitted ticket
    ticket = submit(world, extension="5001")
    counted = PROVISIONING_ATTEMPTS.labels("directory", "provisioned")
    before = counted._value.get()

    # When it is approved and the worker provisions it
    with caplog.at_level(logging.WARNING):
        provision(app, world, ticket)

    # Then its outcome is counted, and the worker thread warned of nothing (a returned value
    # made Dramatiq warn of every message)
    assert db.session.get_one(Ticket, ticket.id).state == "provisioned"
    assert counted._value.get() >= before + 1
    # (only the worker thread's: workers of earlier tests on this broker may warn of their own)
    assert [record.getMessage() for record in caplog.records
            if record.name == "dramatiq.worker.WorkerThread"
            and record.levelno >= logging.WARNING] == []
