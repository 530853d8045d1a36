"""The registry of ticket kinds: one entry per `TicketKind`, each complete."""

from __future__ import annotations

import pytest

from workflow.tickets.kinds import KINDS, TicketKind, kind_of


def test_the_registry_covers_every_ticket_kind_and_nothing_else() -> None:
    assert set(KINDS) == {kind.value for kind in TicketKind}
    for code, kind in KINDS.items():
        assert kind.code == code


def test_only_a_new_account_is_filed_for_an_employee_without_an_agent() -> None:
    assert [code for code, kind in KINDS.items() if not kind.needs_agent] == ["new"]


def test_a_revoke_asks_for_no_extension_and_takes_the_account_away() -> None:
    revoke = kind_of(TicketKind.REVOKE)
    assert not revoke.routes and revoke.removes_account
    assert not kind_of(TicketKind.NEW).removes_account
    assert not kind_of(TicketKind.CHANGE).removes_account


def test_only_a_change_offers_a_new_sip_password() -> None:
    assert [code for code, kind in KINDS.items() if kind.resets_password] == ["change"]


def test_an_unknown_kind_is_not_in_the_registry() -> None:
    with pytest.raises(KeyError):
        kind_of("unknown")
