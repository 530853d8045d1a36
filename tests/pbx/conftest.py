"""A real Kamailio for the tests: its own PostgreSQL database, free ports, stopped afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine

from tasks.pbx.kamailio import KamailioPhoneSystem
from tests.support.apps import worker_suffix
from tests.support.pbx import DOMAIN, Kamailio, running_kamailio
from tests.support.sip import Phone

__all__ = ["DOMAIN", "Kamailio", "devices", "kamailio", "pbx"]


@pytest.fixture(scope="session")
def kamailio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kamailio]:
    """Kamailio on 127.0.0.1 (non-standard ports) against a fresh database of its own."""
    log = tmp_path_factory.mktemp("kamailio") / "kamailio.log"
    try:
        launched = running_kamailio(f"agentdesk_kamailio_{worker_suffix()}", log)
        with launched as running:
            yield running
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.fixture
def pbx(kamailio: Kamailio) -> Iterator[KamailioPhoneSystem]:
    """The adapter over the test Kamailio's database."""
    engine = create_engine(kamailio.database_url.replace("postgresql://",
                                                         "postgresql+psycopg://"))
    yield KamailioPhoneSystem(engine, kamailio.domain, kamailio.rpc_url)
    engine.dispose()


@pytest.fixture
def devices() -> Iterator[list[Phone]]:
    """Phones made during a test, closed after it."""
    made: list[Phone] = []
    yield made
    for device in made:
        device.close()
