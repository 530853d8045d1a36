"""Ticket kinds are named from the translation catalogs, in every language the product speaks."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from tasks.mail_text import kind_label
from web.messages import CATALOGS, LANGUAGES
from workflow.tickets.kinds import KINDS, TicketKind, kind_of


@pytest.mark.parametrize("code", [kind.value for kind in TicketKind])
def test_every_kind_is_named_in_both_languages(code: str) -> None:
    assert kind_label(code, "vi").strip() and kind_label(code, "en").strip()
    assert kind_label(code, "vi") != kind_label(code, "en")


def test_a_language_the_product_does_not_speak_gets_vietnamese() -> None:
    assert kind_label("new", "fr") == "Cấp mới TK"


def test_a_kind_names_itself_in_vietnamese_the_source_language() -> None:
    assert [kind.label for kind in KINDS.values()] == [
        "Cấp mới TK", "Đổi tài khoản", "Ngừng cấp TK cloud phone"]


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_kind_label_has_a_finished_translation(language: str) -> None:
    with open(CATALOGS / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    for code in KINDS:
        entry = catalog.get(kind_of(code).label)
        assert entry is not None and entry.string and not entry.fuzzy, code
