"""Sending queued mail. Safe with several workers: a message is claimed by one UPDATE."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from portal.db import utcnow
from portal.extensions import db
from portal.notify import sender
from portal.notify.models import MailStatus, OutboxMessage

# A sender that died mid-message leaves it "sending"; after this it is tried again.
STALE_CLAIM = timedelta(minutes=10)


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** attempts, 240))


def send_message(message_id: int) -> str:
    """Send one message if it is due and nobody else is sending it."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        return "kept"  # no SMTP: staff read the outbox
    now = utcnow()
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            or_(
                (OutboxMessage.status == MailStatus.QUEUED)
                & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == MailStatus.SENDING)
                & (OutboxMessage.claimed_at < now - STALE_CLAIM),
            ),
        )
        .values(status=MailStatus.SENDING, claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return "skipped"
    message = db.session.scalars(
        select(OutboxMessage)
        .options(selectinload(OutboxMessage.attachments))
        .where(OutboxMessage.id == message_id)
    ).one()
    try:
        sender.deliver(sender.build(message, config["MAIL_FROM"]), config)
    except Exception as exc:  # any SMTP or network error: keep the message, try later
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= config["MAIL_MAX_ATTEMPTS"]:
            message.status = MailStatus.FAILED
        else:
            message.status = MailStatus.QUEUED
            message.next_attempt_at = utcnow() + _backoff(message.attempts)
        db.session.commit()
        return "failed"
    message.status = MailStatus.SENT
    message.sent_at = utcnow()
    message.attempts += 1
    message.last_error = None
    db.session.commit()
    return "sent"


def send_due(limit: int = 200) -> str:
    """Periodic: send every queued message whose time has come (and reclaim stale ones)."""
    if not current_app.config.get("SMTP_HOST"):
        return "no SMTP server configured; mail is kept in the outbox"
    now = utcnow()
    ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == MailStatus.QUEUED)
                & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == MailStatus.SENDING)
                & (OutboxMessage.claimed_at < now - STALE_CLAIM),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    results = [send_message(i) for i in ids]
    return f"{results.count('sent')} sent, {results.count('failed')} failed"
