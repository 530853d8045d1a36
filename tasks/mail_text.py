"""What the emails say, in each recipient's language, from the web's translation catalogs.

The source texts are Vietnamese; the English ones live in `web/translations` with every
other text of agentdesk, read here without a Flask request.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

from workflow.tickets.kinds import kind_of

#: The catalogs shared with the web (package data of `web`).
CATALOGS = Path(__file__).resolve().parent.parent / "web" / "translations"
#: The languages letters are written in; any other reads as the first (the source texts).
LANGUAGES = ("vi", "en")


def N_(text: str) -> str:  # named by the gettext convention, which the extractor knows
    """Mark `text` for the catalogs; it is translated when a letter is written."""
    return text


#: Subject lines by event action; any other action reads as a submission.
SUBJECTS = {
    "submit": N_("Phiếu #%(id)s chờ duyệt: %(kind)s cho %(employee)s"),
    "approve": N_("Phiếu #%(id)s đã được duyệt"),
    "reject": N_("Phiếu #%(id)s bị từ chối"),
    "cancel": N_("Phiếu #%(id)s đã bị huỷ"),
    "retry": N_("Phiếu #%(id)s được thử lại"),
    "complete": N_("Phiếu #%(id)s đã hoàn tất: số máy lẻ đã được cấu hình"),
    "fail": N_("Phiếu #%(id)s thất bại khi cấu hình tổng đài"),
}

#: The body of a notice's email.
NOTICE_BODY = N_("%(subject)s\n\nNhân viên: %(employee)s\nSố máy lẻ: %(extension)s\n"
                 "Ghi chú: %(comment)s\n\nXem phiếu: %(link)s\n")

CREDENTIAL_SUBJECT = N_("Thông tin đăng nhập tổng đài (SIP) của bạn")

CREDENTIAL_BODY = N_(
    "Chào %(name)s,\n\n"
    "Tài khoản tổng đài của bạn đã sẵn sàng. Mở liên kết dưới đây để xem tên đăng nhập, "
    "tên miền và mật khẩu SIP. Liên kết chỉ dùng được một lần và hết hạn lúc %(expires)s.\n\n"
    "%(link)s\n\n"
    "Sau khi đã xem, mật khẩu không thể hiển thị lại; muốn đổi mật khẩu, hãy nhờ người "
    "quản lý tạo phiếu đổi tài khoản.\n"
)


@cache
def catalog(language: str) -> NullTranslations:
    """The translations into `language`; Vietnamese (the source texts) for any other."""
    if language not in LANGUAGES[1:]:
        return NullTranslations()
    return Translations.load(str(CATALOGS), [language], domain="messages")


def translated(text: str, language: str) -> str:
    """`text` in `language`."""
    return catalog(language).gettext(text)


def kind_label(kind: str, language: str) -> str:
    """A ticket kind as people say it in `language` (KeyError for an unknown kind)."""
    return translated(kind_of(kind).label, language)


def notice_subject(action: str, language: str, ticket_id: int, kind: str,
                   employee: str) -> str:
    """The subject of a notice's email about `action` on a ticket."""
    text = translated(SUBJECTS.get(action, SUBJECTS["submit"]), language)
    return text % {"id": ticket_id, "kind": kind_label(kind, language), "employee": employee}


def notice_body(language: str, subject: str, employee: str, extension: str, comment: str,
                link: str) -> str:
    """The body of a notice's email."""
    return translated(NOTICE_BODY, language) % {
        "subject": subject, "employee": employee, "extension": extension,
        "comment": comment, "link": link}


def credential_subject(language: str) -> str:
    """The subject of the letter bringing a SIP password's link."""
    return translated(CREDENTIAL_SUBJECT, language)


def credential_body(language: str, name: str, expires: str, link: str) -> str:
    """The body of the letter bringing a SIP password's link."""
    return translated(CREDENTIAL_BODY, language) % {
        "name": name, "expires": expires, "link": link}
