"""Outbound email over real SMTP (stdlib smtplib in a worker thread: no extra dependency)."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from urllib.parse import urlparse

__all__ = ["send_mail"]


def _send(url: str, sender: str, to: str, subject: str, body: str, headers: dict[str, str]) -> None:
    parts = urlparse(url)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    for name, value in headers.items():
        message[name] = value
    message.set_content(body)
    with smtplib.SMTP(parts.hostname or "127.0.0.1", parts.port or 25, timeout=10) as smtp:
        smtp.send_message(message)


async def send_mail(
    url: str,
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    headers: dict[str, str] | None = None,
) -> None:
    """Deliver one message to the SMTP server at ``smtp://host:port``."""
    await asyncio.to_thread(_send, url, sender, to, subject, body, headers or {})
