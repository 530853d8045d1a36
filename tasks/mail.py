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

from tasks import mail_text
from workflow.credentials import link_digest
from workflow.domain.text import folded, unsafe_characters
from workflow.models import utcnow
from workflow.ports import CredentialLetter, EmailRefused, NotificationLetter


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail."""

    server: str
    port: int = 25
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    sender: str = "agentdesk@localhost"
    #: The public address of agentdesk (BASE_URL) that the letters' links open at.
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


def compose(letter: NotificationLetter, settings: SmtpSettings) -> EmailMessage:
    """The email of one notice, in its recipient's language."""
    language = letter.language
    employee = folded(letter.employee_name)
    subject = mail_text.notice_subject(letter.action, language, letter.ticket_id,
                                       letter.ticket_kind, employee)
    message = EmailMessage()
    set_header(message, "Subject", subject)
    set_header(message, "From", settings.sender)
    set_header(message, "To", recipient(letter.email))
    set_header(message, "Date", format_datetime(letter.written_at))
    set_header(message, "Message-ID", message_id(letter.notification_id, settings.sender))
    message.set_content(mail_text.notice_body(
        language, subject, employee=letter.employee_name, extension=letter.extension,
        comment=letter.comment or "-", link=letter.link))
    return message


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
    expires = letter.expires_at.astimezone(ZoneInfo(settings.timezone))
    message = EmailMessage()
    set_header(message, "Subject", mail_text.credential_subject(letter.language))
    set_header(message, "From", settings.sender)
    set_header(message, "To", recipient(letter.email))
    set_header(message, "Date", format_datetime(utcnow()))
    # Each link is its own message: a newer link must not be dropped as a duplicate.
    tag, domain = link_digest(letter.link_token)[:16], _domain_of(settings.sender)
    set_header(message, "Message-ID", f"<credential-{letter.credential_id}-{tag}@{domain}>")
    message.set_content(mail_text.credential_body(
        letter.language, name=folded(letter.full_name),
        expires=expires.strftime("%H:%M %d/%m/%Y"), link=letter.link))
    return message


class SmtpMailer:
    """`Mailer` that speaks SMTP."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    @property
    def base_url(self) -> str:
        """The public address of agentdesk that the letters' links open at."""
        return self.settings.base_url

    def send_notification(self, letter: NotificationLetter) -> None:
        """Send one notification email (EmailRefused for it alone, OSError when mail is down)."""
        self._send(_composed(lambda: compose(letter, self.settings)))

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
