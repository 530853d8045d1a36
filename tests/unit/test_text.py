"""The text rules (one-line values, email addresses) and the mailer's safe headers."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from tasks.mail import UnsafeHeader, recipient, set_header
from workflow.domain import text
from workflow.domain.errors import RuleViolation
from workflow.ports import EmailRefused


@pytest.mark.parametrize(("value", "characters"), [
    ("Nguyễn\nVăn", "U+000A"), ("Nguyễn\r\nVăn", "U+000D, U+000A"), ("Nguyễn\x85Văn", "U+0085"),
    ("Nguyễn\u2028Văn", "U+2028"), ("Nguyễn\u2029Văn", "U+2029"), ("Nguyễn\tVăn", "U+0009"),
    ("Nguyễn\x00Văn", "U+0000"), ("Nguyễn\u202eVăn", "U+202E"), ("Nguyễn\u200bVăn", "U+200B"),
    ("\ufeffNguyễn Văn", "U+FEFF"),
])
def test_a_one_line_value_refuses_breaks_controls_and_hidden_format_characters(
    value: str, characters: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        text.one_line(value, "full_name", 200)
    [problem] = refused.value.problems["full_name"]
    assert (problem.code, problem.params) == (
        "text_unsafe", {"characters": characters, "field": "full_name"})


def test_a_one_line_value_is_trimmed_and_composed() -> None:
    decomposed = "Nguye\u0302\u0303n Va\u0306n"  # as some keyboards and code pages send it
    assert text.one_line(f"  {decomposed}\n", "full_name", 200) == "Nguyễn Văn"
    assert text.one_line("Ali\u200dReza", "full_name", 200) == "Ali\u200dReza"  # joiners stay
    assert text.one_line("", "employee_code", 40, required=False) == ""
    for value, code in (("", "text_required"), ("x" * 41, "text_too_long")):
        with pytest.raises(RuleViolation) as refused:
            text.one_line(value, "employee_code", 40)
        assert refused.value.problems["employee_code"][0].code == code


def test_emails_are_checked_by_email_validator_and_kept_normalised() -> None:
    assert text.email_address("  Le.Thu@Test.VN ") == "Le.Thu@test.vn"
    assert text.email_address("") is None
    for bad in ("mail\npoison@x.vn", "khong-phai-email", "a@b", "a@x.vn, b@x.vn",
                "Nguyễn@x.vn", "a@server.local", f"{'a' * 250}@x.vn"):
        with pytest.raises(RuleViolation) as refused:
            text.email_address(bad)
        assert refused.value.problems["email"][0].code in ("email_invalid", "text_unsafe")
    with pytest.raises(RuleViolation):
        text.email_address(" ", required=True)


def test_folding_puts_any_value_on_one_line() -> None:
    assert text.folded("Nguyễn\r\nBcc: x@evil.vn\u2028\x85 Hoa ") == "Nguyễn Bcc: x@evil.vn Hoa"


def test_the_mailer_folds_header_text_and_refuses_an_address_it_cannot_trust() -> None:
    message = EmailMessage()
    set_header(message, "Subject", "Phiếu #1 cho Nguyễn\nBcc: victim@evil.vn")
    set_header(message, "To", recipient("nv@Test.VN"))
    set_header(message, "From", "agentdesk@example.vn\r\n")
    assert "\nBcc" not in message.as_string() and message["Bcc"] is None
    assert str(message["To"]) == "nv@Test.VN"
    assert str(recipient("nv@tên-miền.vn")) == "nv@xn--tn-min-iva0322d.vn"  # IDNA
    for bad in ("mail\npoison@x.vn", "a@x.vn, b@x.vn", "a b@x.vn", "Nguyễn@x.vn", "noat",
                "a@x..vn", "<a@x.vn>", "a@x\u2028.vn"):
        with pytest.raises(UnsafeHeader) as refused:
            recipient(bad)
        assert isinstance(refused.value, EmailRefused)  # the relay parks it, others go on
