"""E-mail delivery over SMTP (standard library): ``SmtpMailer`` and its configuration from ``MEDAI_SMTP_*``."""

from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


@dataclass(frozen=True)
class SmtpMailer:
    """Sends plain-text mail through one SMTP server (STARTTLS and login when configured)."""

    host: str
    port: int = 25
    sender: str = "medai@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
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


def mailer_from_env(environ: dict | None = None) -> SmtpMailer | None:
    """The mailer configured by ``MEDAI_SMTP_HOST`` (+ ``_PORT``, ``_SENDER``, ``_STARTTLS``, ``_USERNAME``,
    ``_PASSWORD``); None when no host is set (e-mail reminders then wait)."""
    env = os.environ if environ is None else environ
    host = env.get("MEDAI_SMTP_HOST")
    if not host:
        return None
    return SmtpMailer(host=host, port=int(env.get("MEDAI_SMTP_PORT", "25")), sender=env.get("MEDAI_SMTP_SENDER", "medai@localhost"),
                      starttls=env.get("MEDAI_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
                      username=env.get("MEDAI_SMTP_USERNAME") or None, password=env.get("MEDAI_SMTP_PASSWORD") or None)
