"""Email notifications over SMTP, in the recipient's language, never carrying a secret."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from workflow.models import Notification

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
    "vi": "{subject}\n\nNhân viên: {employee}\nGhi chú: {comment}\n\nXem phiếu: {link}\n",
    "en": "{subject}\n\nEmployee: {employee}\nComment: {comment}\n\nOpen the ticket: {link}\n",
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


def compose(notification: Notification, settings: SmtpSettings) -> EmailMessage:
    """The email for one notification, in its recipient's language."""
    language = notification.user.language if notification.user.language in SUBJECTS else "vi"
    event = notification.event
    ticket = event.ticket
    values = {
        "id": ticket.id,
        "kind": KINDS[language][ticket.kind],
        "employee": ticket.employee.full_name,
    }
    subject = SUBJECTS[language].get(event.action, SUBJECTS[language]["submit"]).format(**values)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = notification.user.email
    message["Date"] = format_datetime(notification.created_at)
    message["Message-ID"] = message_id(notification.id, settings.sender)
    message.set_content(BODY[language].format(
        subject=subject, employee=ticket.employee.full_name, comment=event.comment or "-",
        link=f"{settings.base_url.rstrip('/')}/tickets/{ticket.id}",
    ))
    return message


def message_id(notification_id: int, sender: str) -> str:
    """The same Message-ID for every sending of a notification, so a resend is a duplicate.

    Sending is at least once (the relay may crash between the send and its record), and
    mail servers and clients drop a second message with a Message-ID they have seen.
    """
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<notification-{notification_id}@{domain}>"


class SmtpMailer:
    """`Mailer` that speaks SMTP."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send_notification(self, notification: Notification) -> None:
        """Send one notification email (raises OSError / SMTPException on failure)."""
        message = compose(notification, self.settings)
        with smtplib.SMTP(self.settings.server, self.settings.port, timeout=10) as smtp:
            if self.settings.use_tls:
                smtp.starttls()
            if self.settings.username:
                smtp.login(self.settings.username, self.settings.password or "")
            smtp.send_message(message)
