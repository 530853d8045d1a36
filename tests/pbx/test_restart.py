"""Registrations and calls live in the database: a Kamailio restart keeps every device
reachable and every call in progress known (its BYEs relayed, its agents revocable)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine

from tasks.pbx.kamailio import KamailioPhoneSystem
from tests.support.apps import PG_ADMIN_URL, worker_suffix
from tests.support.kamailio_profiles import set_profile
from tests.support.pbx import Kamailio, running_kamailio
from tests.support.processes import wait_for
from tests.support.sip import Message, Phone
from workflow.domain.routing import Routing
from workflow.ports import PhoneAccount

SECRET = "mat-khau-khoi-dong-lai"
#: The caller, then one callee (with its extension) per call in progress at the restart.
CALL_ACCOUNTS = (("agdlgc", "5980"), ("agdlg1", "5981"), ("agdlg2", "5982"),
                 ("agdlg3", "5983"), ("agdlg4", "5984"))
CALL_PURPOSES = ("caller hangs up", "callee hangs up", "callee revoked", "left to its limit")
#: The caller's longest internal call, in seconds (far beyond the test: it never runs out).
LONGEST_CALL = 600
#: kamailio.cfg's DLG_DB_UPDATE_PERIOD, shortened: the seconds before answered calls are
#: in the database (a stop does not write them in Kamailio 5.6's db_mode 2).
DIALOG_WRITES = {"DLG_DB_UPDATE_PERIOD": "1"}


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
            # usrloc loads the table in one of Kamailio's processes while the others already
            # answer: the contact comes back within moments of the start.
            wait_for(lambda: "agkeep1" in str(after.rpc("ul.dump")),
                     "the registration to be loaded from the database", timeout=10)
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


@dataclass(frozen=True)
class AnsweredCall:
    """A call answered before the restart: both phones, and the INVITE the callee got."""

    caller: Phone
    callee: Phone
    invite: Message


@dataclass(frozen=True)
class Restarted:
    """The proxy started again over the database of one that had calls in progress."""

    kamailio: Kamailio
    calls: dict[str, AnsweredCall]


def answered_call(kamailio: Kamailio, caller_name: str, callee_name: str,
                  extension: str) -> AnsweredCall:
    """`callee_name` registers, `caller_name` calls its extension, it picks up, ACK."""
    callee = Phone(callee_name, SECRET, kamailio.domain, kamailio.sip)
    caller = Phone(caller_name, SECRET, kamailio.domain, kamailio.sip)
    assert callee.register() == 200
    caller.dial(extension)
    invite = callee.ring()
    assert invite is not None, f"{extension} did not ring"
    callee.accept(invite)
    assert caller.outcome() == 200
    caller.ack()
    return AnsweredCall(caller, callee, invite)


def stored_calls(database_url: str) -> int:
    """How many answered calls (confirmed dialogs naming their callee) the database holds."""
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM dialog WHERE state = 4 AND EXISTS (SELECT 1 FROM dialog_vars"
            " WHERE dialog_vars.hash_entry = dialog.hash_entry"
            " AND dialog_vars.hash_id = dialog.hash_id AND dialog_key = 'callee')").fetchone()
    return int(row[0]) if row else 0


def call_record(database_url: str, call_id: str) -> tuple[str, str] | None:
    """The caller and callee agents of the call's record (acc_cdrs), once it is written."""
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT caller_agent, callee_agent FROM acc_cdrs"
                                 " WHERE callid = %s", (call_id,)).fetchone()
    return (row[0], row[1]) if row else None


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restarted]:
    """Four calls answered, a graceful stop (SIGTERM), the same proxy started again."""
    name = f"agentdesk_kamailio_dialogs_{worker_suffix()}"
    logs = tmp_path_factory.mktemp("dialogs")
    calls: dict[str, AnsweredCall] = {}
    try:
        with running_kamailio(name, logs / "before.log", defines=DIALOG_WRITES) as before:
            engine = create_engine(before.database_url.replace("postgresql://",
                                                               "postgresql+psycopg://"))
            adapter = KamailioPhoneSystem(engine, before.domain, before.rpc_url)
            for username, extension in CALL_ACCOUNTS:
                adapter.ensure_account(PhoneAccount(username, extension, Routing(), SECRET), 1)
            engine.dispose()
            set_profile(before, CALL_ACCOUNTS[0][0], cos_out="0", cos_classes="internal",
                        cos_max_int=str(LONGEST_CALL))
            for (callee, extension), purpose in zip(CALL_ACCOUNTS[1:], CALL_PURPOSES,
                                                   strict=True):
                calls[purpose] = answered_call(before, CALL_ACCOUNTS[0][0], callee, extension)
            # The stop does not write them (Kamailio 5.6, db_mode 2): the restart comes once
            # the timer has, as an operator's restart a few seconds after an answer does.
            wait_for(lambda: stored_calls(before.database_url) == len(calls),
                     "the answered calls to be written to the database", timeout=10)
            port = before.sip[1]
        with running_kamailio(name, logs / "after.log", sip_port=port, keep_database=True,
                              defines=DIALOG_WRITES) as after:
            yield Restarted(after, calls)
    finally:
        for call in calls.values():
            call.caller.close()
            call.callee.close()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_caller_hangs_up_a_call_answered_before_a_restart(restarted: Restarted) -> None:
    call = restarted.calls["caller hangs up"]
    call.caller.hang_up()
    # The proxy still knows the call: the BYE reaches the callee (not "403 Not In A Known
    # Dialog"), and its 200 OK reaches the caller.
    assert call.callee.hung_up(timeout=3.0) is not None, "the BYE was not relayed"
    assert call.caller.outcome() == 200, call.caller.last_answer.first_line
    # Its call record names both agents, as for any call (acc follows the restored dialog).
    record = wait_for(lambda: call_record(restarted.kamailio.database_url,
                                          call.invite.header("call-id")),
                      "the call record", timeout=5)
    assert record == ("agdlgc", "agdlg1")


def test_the_callee_hangs_up_a_call_answered_before_a_restart(restarted: Restarted) -> None:
    call = restarted.calls["callee hangs up"]
    call.callee.hang_up_answered(call.invite)
    assert call.caller.hung_up(timeout=3.0) is not None, "the BYE was not relayed"
    assert call.callee.outcome() == 200, call.callee.last_answer.first_line


def test_revoking_an_agent_after_a_restart_ends_its_call_answered_before_it(
    restarted: Restarted
) -> None:
    kamailio = restarted.kamailio
    engine = create_engine(kamailio.database_url.replace("postgresql://",
                                                         "postgresql+psycopg://"))
    try:
        adapter = KamailioPhoneSystem(engine, kamailio.domain, kamailio.rpc_url)
        assert adapter.remove_account("agdlg3", 2) is True
    finally:
        engine.dispose()
    # The dialog's variables (who called, who was called) came back with it: the revoke
    # finds the call and the proxy hangs up both sides. (The caller answers its BYE only
    # once the callee has had its own: kamailio/kamailio#4169, see test_calling_enforcement.)
    call = restarted.calls["callee revoked"]
    bye_to_caller = call.caller.hung_up(timeout=5.0, confirm=False)
    assert bye_to_caller is not None, "the caller's side went on"
    assert call.callee.hung_up(timeout=5.0) is not None, "the callee's side went on"
    call.caller.confirm_bye(bye_to_caller)


def test_the_longest_call_still_applies_to_a_call_answered_before_a_restart(
    restarted: Restarted
) -> None:
    call_id = restarted.calls["left to its limit"].invite.header("call-id")
    dialogs = [dialog for dialog in restarted.kamailio.rpc("dlg.list") or []
               if dialog["call-id"] == call_id]
    assert len(dialogs) == 1, "the call is unknown after the restart"
    # Its end is still the caller's limit counted from the answer (not the dialog module's
    # 12-hour default), and it still ends with a BYE to each side (iflags bit 0).
    assert dialogs[0]["timeout"] - dialogs[0]["start_ts"] <= LONGEST_CALL + 60, dialogs[0]
    assert dialogs[0]["iflags"] & 1, dialogs[0]
