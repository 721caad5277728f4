"""Turning an outbox row into an SMTP conversation."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from portal.notify.models import OutboxMessage


def build(message: OutboxMessage, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.to_addr
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
    mail.set_content(message.body_text)
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html")
    for att in message.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        mail.add_attachment(att.data, maintype=maintype, subtype=subtype, filename=att.filename)
    # Last: set_content() and the multipart conversions drop or move Content-* headers.
    mail["Content-Language"] = message.language
    return mail


def deliver(mail: EmailMessage, config: dict[str, Any]) -> None:
    host, port = config["SMTP_HOST"], config["SMTP_PORT"]
    if config["SMTP_SSL"]:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=30, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(host, port, timeout=30)
    with client:
        if config["SMTP_STARTTLS"]:
            client.starttls(context=ssl.create_default_context())
        if config["SMTP_USERNAME"]:
            client.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        client.send_message(mail)
