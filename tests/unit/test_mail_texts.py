"""What the emails say, word for word, in Vietnamese and English, from the catalogs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from tasks import mail_text
from tasks.mail import SmtpSettings, compose, compose_credential_letter
from workflow.ports import CredentialLetter, NotificationLetter

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = SmtpSettings(server="mail.congty.vn", sender="agentdesk@congty.vn")

#: Every subject as the emails have always read, by language and action.
SUBJECTS = {
    "vi": {
        "submit": "Phiếu #7 chờ duyệt: Đổi tài khoản cho Nguyễn Văn An",
        "approve": "Phiếu #7 đã được duyệt",
        "reject": "Phiếu #7 bị từ chối",
        "cancel": "Phiếu #7 đã bị huỷ",
        "retry": "Phiếu #7 được thử lại",
        "complete": "Phiếu #7 đã hoàn tất: số máy lẻ đã được cấu hình",
        "fail": "Phiếu #7 thất bại khi cấu hình tổng đài",
        "move_branch": "Phiếu #7 chờ duyệt: Đổi tài khoản cho Nguyễn Văn An",
    },
    "en": {
        "submit": "Ticket #7 awaits approval: Change account for Nguyễn Văn An",
        "approve": "Ticket #7 was approved",
        "reject": "Ticket #7 was rejected",
        "cancel": "Ticket #7 was cancelled",
        "retry": "Ticket #7 is being retried",
        "complete": "Ticket #7 is done: the extension is set up",
        "fail": "Ticket #7 failed on the phone system",
        "move_branch": "Ticket #7 awaits approval: Change account for Nguyễn Văn An",
    },
}


def notice(action: str, language: str, comment: str = "") -> NotificationLetter:
    """A notice's letter about ticket 7."""
    return NotificationLetter(
        notification_id=3, user_id=2, email="duyet@congty.vn", language=language,
        action=action, comment=comment, ticket_id=7, ticket_kind="change",
        employee_name="Nguyễn Văn An", extension="5001",
        written_at=datetime(2026, 12, 4, 2, 30, tzinfo=UTC),
        link="https://agentdesk.congty.vn/tickets/7")


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("action", sorted(SUBJECTS["vi"]))
def test_each_event_has_its_subject(language: str, action: str) -> None:
    assert compose(notice(action, language), SETTINGS)["Subject"] == SUBJECTS[language][action]


def test_a_notice_reads_as_it_always_has_in_both_languages() -> None:
    vi = compose(notice("approve", "vi", "Đồng ý"), SETTINGS).get_content()
    assert vi == ("Phiếu #7 đã được duyệt\n\nNhân viên: Nguyễn Văn An\nSố máy lẻ: 5001\n"
                  "Ghi chú: Đồng ý\n\nXem phiếu: https://agentdesk.congty.vn/tickets/7\n")
    en = compose(notice("reject", "en"), SETTINGS).get_content()
    assert en == ("Ticket #7 was rejected\n\nEmployee: Nguyễn Văn An\nExtension: 5001\n"
                  "Comment: -\n\nOpen the ticket: https://agentdesk.congty.vn/tickets/7\n")


def test_a_language_without_letters_reads_vietnamese() -> None:
    assert compose(notice("approve", "fr"), SETTINGS)["Subject"] == "Phiếu #7 đã được duyệt"
    assert compose(notice("approve", "EN"), SETTINGS)["Subject"] == "Phiếu #7 đã được duyệt"


def test_kind_labels_in_both_languages() -> None:
    assert [mail_text.kind_label(kind, "vi") for kind in ("new", "change", "revoke")] == [
        "Cấp mới TK", "Đổi tài khoản", "Ngừng cấp TK cloud phone"]
    assert [mail_text.kind_label(kind, "en") for kind in ("new", "change", "revoke")] == [
        "New account", "Change account", "Stop cloud phone account"]


def test_a_password_letter_reads_as_it_always_has_in_english() -> None:
    letter = CredentialLetter(
        credential_id=4, email="an@congty.vn", full_name="Nguyễn Văn An", language="en",
        link_token="tok", expires_at=datetime(2026, 12, 4, 2, 30, tzinfo=UTC),
        link="https://agentdesk.congty.vn/credentials/open#tok")
    message = compose_credential_letter(letter, SETTINGS)
    assert message["Subject"] == "Your phone system (SIP) sign-in details"
    assert message.get_content() == (
        "Hello Nguyễn Văn An,\n\n"
        "Your phone system account is ready. Open the link below to see your SIP username, "
        "domain and password. The link works once and expires at 09:30 04/12/2026.\n\n"
        "https://agentdesk.congty.vn/credentials/open#tok\n\n"
        "Once seen, the password cannot be shown again; to get a new one, ask your manager "
        "to file a change ticket.\n")
    vietnamese = compose_credential_letter(
        CredentialLetter(4, "an@congty.vn", "An", "vi", "tok", letter.expires_at, letter.link),
        SETTINGS)
    assert vietnamese["Subject"] == "Thông tin đăng nhập tổng đài (SIP) của bạn"
    assert vietnamese.get_content().startswith(
        "Chào An,\n\nTài khoản tổng đài của bạn đã sẵn sàng. Mở liên kết dưới đây để xem tên "
        "đăng nhập, tên miền và mật khẩu SIP. Liên kết chỉ dùng được một lần và hết hạn lúc "
        "09:30 04/12/2026.\n\n")


def test_every_mail_text_has_an_english_translation() -> None:
    with open(ROOT / "web/translations/en/LC_MESSAGES/messages.po", "rb") as handle:
        translated = {message.id for message in read_po(handle) if message.string}
    with open(ROOT / "tasks/mail_text.py", "rb") as source:
        marked = {message for _line, message, _comments, _context
                  in extract_from_file("python", source.name)}
    assert len(marked) == 13
    assert not marked - translated
