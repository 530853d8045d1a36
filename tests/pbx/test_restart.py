"""Registrations live in the database: a Kamailio restart keeps every device reachable."""

from __future__ import annotations

from pathlib import Path

import psycopg
from sqlalchemy import create_engine

from tasks.pbx.kamailio import KamailioPhoneSystem
from tests.conftest import PG_ADMIN_URL, worker_suffix
from tests.pbx.launcher import running_kamailio
from tests.sip import Phone
from workflow.ports import PhoneAccount
from workflow.routing import Routing

SECRET = "mat-khau-khoi-dong-lai"


def test_a_phone_registered_before_a_restart_rings_after_it(tmp_path: Path) -> None:
    name = f"agentdesk_kamailio_restart_{worker_suffix()}"
    phone: Phone | None = None
    try:
        with running_kamailio(name, tmp_path / "before.log") as before:
            engine = create_engine(before.database_url.replace("postgresql://",
                                                               "postgresql+psycopg://"))
            adapter = KamailioPhoneSystem(engine, before.domain, before.rpc_url)
            for username, extension in (("agkeep1", "5971"), ("agkeep2", "5972")):
                adapter.ensure_account(PhoneAccount(username, extension, Routing(), SECRET), 1)
            engine.dispose()
            phone = Phone("agkeep1", SECRET, before.domain, before.sip)
            assert phone.register() == 200
            port, domain = before.sip[1], before.domain
        # The same proxy (address, database) started again; the phone does not re-register.
        with running_kamailio(name, tmp_path / "after.log", sip_port=port,
                              keep_database=True) as after:
            assert "agkeep1" in str(after.rpc("ul.dump"))
            colleague = Phone("agkeep2", SECRET, after.domain, after.sip)
            try:
                colleague.dial("5971")
                invite = phone.ring()
                assert invite is not None, "the registration did not survive the restart"
                phone.answer(invite, 486, "Busy Here")
                assert colleague.outcome() == 486
            finally:
                colleague.close()
            assert domain == after.domain
    finally:
        if phone is not None:
            phone.close()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
