"""E-mail delivery over SMTP (standard library): ``SmtpMailer`` and its configuration from the settings
(``MEDAI_SMTP_*``: ``smtp_host``, ``smtp_port``, ``smtp_sender``, ``smtp_starttls``, ``smtp_username``,
``smtp_password``)."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from medai.config import Settings, get_settings


@dataclass(frozen=True)
class SmtpMailer:
    """Sends plain-text mail through one SMTP server (STARTTLS and login when configured)."""

    host: str
    port: int = 25
    sender: str = "medai@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0

    def send(self, to: str, subject: str, body: str) -> str:
        """Send one message; returns its Message-ID. Raises ``smtplib.SMTPException`` / ``OSError`` on failure."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message["Date"], message["Message-ID"] = formatdate(localtime=False), make_msgid(domain="medai.local")
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as client:
            if self.starttls:
                client.starttls()
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)
        return message["Message-ID"]


def mailer_from_env(settings: Settings | None = None) -> SmtpMailer | None:
    """The mailer the settings configure (the process settings, i.e. ``MEDAI_SMTP_*``, when none are given);
    None when ``smtp_host`` is unset (e-mail reminders then wait)."""
    settings = settings or get_settings()
    if not settings.smtp_host:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpMailer(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender,
                      starttls=settings.smtp_starttls, username=settings.smtp_username or None, password=password or None)
