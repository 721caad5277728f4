"""Sending queued mail. Safe with several workers: a message is claimed by one UPDATE.

Each message is two units of work with the SMTP conversation between them: the claim
(and the reading of the message), committed before any network traffic, so no
transaction (on SQLite: no write lock) stays open while a mail server answers; then the
outcome. A sender that dies in between leaves the message "sending", and it is claimed
again after STALE_CLAIM: a failed send never loses the message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import selectinload

from portal.db import rowcount, utcnow
from portal.extensions import db
from portal.notify import sender
from portal.notify.models import MailStatus, OutboxMessage
from portal.transaction import run_unit

# A sender that died mid-message leaves it "sending"; after this it is tried again.
STALE_CLAIM = timedelta(minutes=10)


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** attempts, 240))


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        (OutboxMessage.status == MailStatus.QUEUED) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == MailStatus.SENDING)
        & (OutboxMessage.claimed_at < now - STALE_CLAIM),
    )


def _claim(message_id: int, mail_from: str) -> EmailMessage | None:
    """Take the message if it is due and nobody else has it; the mail to send."""
    now = utcnow()
    claimed = rowcount(db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _due(now))
        .values(status=MailStatus.SENDING, claimed_at=now)
        .execution_options(synchronize_session=False)))
    if claimed != 1:
        return None
    message = db.session.scalars(
        select(OutboxMessage)
        .options(selectinload(OutboxMessage.attachments))
        .where(OutboxMessage.id == message_id)
        .execution_options(populate_existing=True)
    ).one()
    return sender.build(message, mail_from)


def _outcome(message_id: int, error: str | None, max_attempts: int) -> None:
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    if message is None:
        return
    message.attempts += 1
    if error is None:
        message.status = MailStatus.SENT
        message.sent_at = utcnow()
        message.last_error = None
        return
    message.last_error = error[:2000]
    if message.attempts >= max_attempts:
        message.status = MailStatus.FAILED
    else:
        message.status = MailStatus.QUEUED
        message.next_attempt_at = utcnow() + _backoff(message.attempts)


def send_message(message_id: int) -> str:
    """Send one message if it is due and nobody else is sending it."""
    config: dict[str, Any] = current_app.config
    if not config.get("SMTP_HOST"):
        return "kept"  # no SMTP: staff read the outbox
    mail = run_unit(_claim, message_id, config["MAIL_FROM"])
    if mail is None:
        return "skipped"
    try:
        sender.deliver(mail, config)
    except Exception as exc:  # any SMTP or network error: keep the message, try later
        run_unit(_outcome, message_id, f"{type(exc).__name__}: {exc}",
                 config["MAIL_MAX_ATTEMPTS"])
        return "failed"
    run_unit(_outcome, message_id, None, config["MAIL_MAX_ATTEMPTS"])
    return "sent"


def _due_ids(limit: int) -> list[int]:
    return list(db.session.scalars(
        select(OutboxMessage.id).where(_due(utcnow())).order_by(OutboxMessage.id).limit(limit)))


def send_due(limit: int = 200) -> str:
    """Periodic: send every queued message whose time has come (and reclaim stale ones)."""
    if not current_app.config.get("SMTP_HOST"):
        return "no SMTP server configured; mail is kept in the outbox"
    results = [send_message(i) for i in run_unit(_due_ids, limit)]
    return f"{results.count('sent')} sent, {results.count('failed')} failed"
