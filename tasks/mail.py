"""Email notifications over SMTP, in the recipient's language, never carrying a secret."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from workflow.credentials import link_digest
from workflow.models import Notification, Ticket, utcnow
from workflow.ports import CredentialLetter, EmailRefused
from workflow.text import folded, unsafe_characters

#: Subject lines per language and event action.
SUBJECTS = {
    "vi": {
        "submit": "Phiếu #{id} chờ duyệt: {kind} cho {employee}",
        "approve": "Phiếu #{id} đã được duyệt",
        "reject": "Phiếu #{id} bị từ chối",
        "cancel": "Phiếu #{id} đã bị huỷ",
        "retry": "Phiếu #{id} được thử lại",
        "complete": "Phiếu #{id} đã hoàn tất: số máy lẻ đã được cấu hình",
        "fail": "Phiếu #{id} thất bại khi cấu hình tổng đài",
    },
    "en": {
        "submit": "Ticket #{id} awaits approval: {kind} for {employee}",
        "approve": "Ticket #{id} was approved",
        "reject": "Ticket #{id} was rejected",
        "cancel": "Ticket #{id} was cancelled",
        "retry": "Ticket #{id} is being retried",
        "complete": "Ticket #{id} is done: the extension is set up",
        "fail": "Ticket #{id} failed on the phone system",
    },
}

#: Ticket kinds as people say them.
KINDS = {
    "vi": {"new": "Cấp mới TK", "change": "Đổi tài khoản", "revoke": "Ngừng cấp TK cloud phone"},
    "en": {"new": "New account", "change": "Change account", "revoke": "Stop cloud phone account"},
}

BODY = {
    "vi": "{subject}\n\nNhân viên: {employee}\nSố máy lẻ: {extension}\nGhi chú: {comment}\n\n"
          "Xem phiếu: {link}\n",
    "en": "{subject}\n\nEmployee: {employee}\nExtension: {extension}\nComment: {comment}\n\n"
          "Open the ticket: {link}\n",
}


CREDENTIAL_SUBJECT = {
    "vi": "Thông tin đăng nhập tổng đài (SIP) của bạn",
    "en": "Your phone system (SIP) sign-in details",
}

CREDENTIAL_BODY = {
    "vi": (
        "Chào {name},\n\n"
        "Tài khoản tổng đài của bạn đã sẵn sàng. Mở liên kết dưới đây để xem tên đăng nhập, "
        "tên miền và mật khẩu SIP. Liên kết chỉ dùng được một lần và hết hạn lúc {expires}.\n\n"
        "{link}\n\n"
        "Sau khi đã xem, mật khẩu không thể hiển thị lại; muốn đổi mật khẩu, hãy nhờ người "
        "quản lý tạo phiếu đổi tài khoản.\n"
    ),
    "en": (
        "Hello {name},\n\n"
        "Your phone system account is ready. Open the link below to see your SIP username, "
        "domain and password. The link works once and expires at {expires}.\n\n"
        "{link}\n\n"
        "Once seen, the password cannot be shown again; to get a new one, ask your manager "
        "to file a change ticket.\n"
    ),
}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail."""

    server: str
    port: int = 25
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    sender: str = "agentdesk@localhost"
    base_url: str = "http://localhost:5000"
    timezone: str = "Asia/Ho_Chi_Minh"


class UnsafeHeader(EmailRefused):
    """A value that cannot be an email header even once folded onto one line."""


#: Why an email to a broken address is parked (shown to admins).
NOT_AN_ADDRESS = "the recipient's email address is not a valid address"


def set_header(message: EmailMessage, name: str, value: str | Address) -> None:
    """Set a header; a text value is folded onto one line (line breaks become spaces)."""
    try:
        message[name] = folded(value) if isinstance(value, str) else value
    except (ValueError, UnicodeError, MessageError) as error:
        raise UnsafeHeader(f"the {name} header cannot be written ({error})") from error


def recipient(email: str) -> Address:
    """The To address of an email, or UnsafeHeader when `email` is not exactly one address.

    An address cannot be folded: one with a line break, a space or a control character
    may be two addresses, so it is refused rather than guessed at.
    """
    address = email.strip()
    local, at, domain = address.rpartition("@")
    if (not at or not local or not domain or unsafe_characters(address)
            or any(char.isspace() for char in address) or not local.isascii()):
        raise UnsafeHeader(NOT_AN_ADDRESS)
    try:
        # International domain names travel as IDNA (xn--…); mail servers expect ASCII.
        ascii_domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
        found = Address(addr_spec=f"{local}@{ascii_domain}")
    except (ValueError, UnicodeError, MessageError) as error:
        raise UnsafeHeader(NOT_AN_ADDRESS) from error
    if found.addr_spec != f"{local}@{ascii_domain}":
        raise UnsafeHeader(NOT_AN_ADDRESS)
    return found


def compose(notification: Notification, settings: SmtpSettings) -> EmailMessage:
    """The email for one notification, in its recipient's language."""
    language = notification.user.language if notification.user.language in SUBJECTS else "vi"
    event = notification.event
    ticket = event.ticket
    values = {
        "id": ticket.id,
        "kind": KINDS[language][ticket.kind],
        "employee": folded(ticket.employee.full_name),
    }
    subject = SUBJECTS[language].get(event.action, SUBJECTS[language]["submit"]).format(**values)
    message = EmailMessage()
    set_header(message, "Subject", subject)
    set_header(message, "From", settings.sender)
    set_header(message, "To", recipient(notification.user.email))
    set_header(message, "Date", format_datetime(notification.created_at))
    set_header(message, "Message-ID", message_id(notification.id, settings.sender))
    message.set_content(BODY[language].format(
        subject=subject, employee=ticket.employee.full_name, comment=event.comment or "-",
        extension=ticket_extension(ticket),
        link=f"{settings.base_url.rstrip('/')}/tickets/{ticket.id}",
    ))
    return message


def ticket_extension(ticket: Ticket) -> str:
    """The extension a ticket is about: the one it asks for, else the one it acts on."""
    if ticket.extension:
        return ticket.extension
    # A revoke asks for none: its submission recorded the extension it gives back.
    for event in ticket.events:
        for value in (event.changes or {}).get("extension") or []:
            if value:
                return str(value)
    return "-"


def message_id(notification_id: int, sender: str) -> str:
    """The same Message-ID for every sending of a notification, so a resend is a duplicate.

    Sending is at least once (the relay may crash between the send and its record), and
    mail servers and clients drop a second message with a Message-ID they have seen.
    """
    return f"<notification-{notification_id}@{_domain_of(sender)}>"


def _domain_of(sender: str) -> str:
    """The domain of the sender's address, for Message-IDs."""
    return folded(sender).rpartition("@")[2].replace(" ", "") or "localhost"


def compose_credential_letter(letter: CredentialLetter, settings: SmtpSettings) -> EmailMessage:
    """The email carrying a one-time link to a SIP password, in the employee's language."""
    language = letter.language if letter.language in CREDENTIAL_SUBJECT else "vi"
    expires = letter.expires_at.astimezone(ZoneInfo(settings.timezone))
    message = EmailMessage()
    set_header(message, "Subject", CREDENTIAL_SUBJECT[language])
    set_header(message, "From", settings.sender)
    set_header(message, "To", recipient(letter.email))
    set_header(message, "Date", format_datetime(utcnow()))
    # Each link is its own message: a newer link must not be dropped as a duplicate.
    tag, domain = link_digest(letter.link_token)[:16], _domain_of(settings.sender)
    set_header(message, "Message-ID", f"<credential-{letter.credential_id}-{tag}@{domain}>")
    message.set_content(CREDENTIAL_BODY[language].format(
        name=folded(letter.full_name), expires=expires.strftime("%H:%M %d/%m/%Y"),
        link=f"{settings.base_url.rstrip('/')}/credentials/open#{letter.link_token}"))
    return message


class SmtpMailer:
    """`Mailer` that speaks SMTP."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send_notification(self, notification: Notification) -> None:
        """Send one notification email (EmailRefused for it alone, OSError when mail is down)."""
        self._send(_composed(lambda: compose(notification, self.settings)))

    def send_credential_link(self, letter: CredentialLetter) -> None:
        """Send the one-time link to a SIP password."""
        self._send(_composed(lambda: compose_credential_letter(letter, self.settings)))

    def _send(self, message: EmailMessage) -> None:
        """Deliver one message over SMTP; a refusal of this message alone is EmailRefused."""
        with smtplib.SMTP(self.settings.server, self.settings.port, timeout=10) as smtp:
            if self.settings.use_tls:
                smtp.starttls()
            if self.settings.username:
                smtp.login(self.settings.username, self.settings.password or "")
            try:
                smtp.send_message(message)
            except smtplib.SMTPException as error:
                refused = refusal(error)
                if refused is None:
                    raise
                raise refused from error
            except (ValueError, MessageError) as error:  # the message cannot be written out
                raise EmailRefused(folded(f"cannot be sent: {type(error).__name__}: {error}")
                                   [:200]) from error


def _composed(build: Callable[[], EmailMessage]) -> EmailMessage:
    """The message `build` composes, or EmailRefused when its data cannot make one."""
    try:
        return build()
    except EmailRefused:
        raise
    except (ValueError, UnicodeError, LookupError, MessageError) as error:
        raise EmailRefused(folded(f"cannot be composed: {type(error).__name__}: {error}")
                           [:200]) from error


#: Failures of the server or the connection, never of one message: mail is down.
_SERVER_TROUBLE = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError,
                   smtplib.SMTPHeloError, smtplib.SMTPAuthenticationError)


def refusal(error: smtplib.SMTPException) -> EmailRefused | None:
    """The server's permanent (5xx) refusal of one message, or None when it may pass later."""
    if isinstance(error, _SERVER_TROUBLE):
        return None
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = list(error.recipients.values())
        if replies and all(code >= 500 for code, _text in replies):
            return EmailRefused("recipient refused: " + _reply(*replies[0]))
        return None
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return EmailRefused(folded(f"the mail server cannot take this message: {error}")[:200])
    if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500:
        what = "sender refused" if isinstance(error, smtplib.SMTPSenderRefused) else "refused"
        return EmailRefused(f"{what}: {_reply(error.smtp_code, error.smtp_error)}")
    return None


def _reply(code: int, text: bytes | str) -> str:
    """An SMTP reply, short and on one line."""
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return folded(f"{code} {said}")[:200]
