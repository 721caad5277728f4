"""Putting mail in the outbox. Every message is rendered in its recipient's language."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from jinja2 import TemplateNotFound
from limits import parse_many

from portal import jobs
from portal.audit.services import record
from portal.db import utcnow
from portal.errors import Conflict
from portal.extensions import db, limiter
from portal.notify.models import MailStatus, OutboxAttachment, OutboxMessage
from portal.security import OwnLink

if TYPE_CHECKING:
    from portal.accounts.models import User


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def queue_mail(
    to: str,
    template: str,
    /,
    *,
    subject: object,
    language: str | None = None,
    review: bool = False,
    attachments: list[Attachment] | None = None,
    **context: Any,
) -> OutboxMessage:
    """Render `templates/email/<template>.txt` (+ `.html` if present) and queue it.

    `subject` is a `lazy_gettext(...)` string (with its own variables), so it is
    translated here in the recipient's language. Mails with `review=True` wait for
    a staff member to release them. Sending happens after the commit, outside the request.
    In the HTML part only the context's OwnLink values (the portal's own links) are links.
    """
    language = language or "en"
    # The portal's own links (OwnLink, from portal.web.external_url) are the only lines
    # the HTML part turns into links; anything typed by someone stays text.
    links = {str(v) for v in context.values() if isinstance(v, OwnLink)}
    with force_locale(language):
        subject_text = str(subject)
        text = render_template(f"email/{template}.txt", **context)
        html = _render_optional(f"email/{template}.html", **context) or render_template(
            "email/_layout.html", text=text, subject=subject_text, language=language,
            links=links)
    message = OutboxMessage(
        to_addr=to.strip().lower(), subject=subject_text, body_text=text, body_html=html,
        language=language, template=template, review_required=review,
        status=MailStatus.HELD if review else MailStatus.QUEUED,
    )
    message.attachments = [
        OutboxAttachment(filename=a.filename, content_type=a.content_type, data=a.data)
        for a in attachments or []
    ]
    db.session.add(message)
    db.session.flush()
    if not review:
        jobs.enqueue("portal.notify.jobs.send_message", message.id)
    return message


def recipient_allows(flow: str, address: str, limit: str) -> bool:
    """Count one mail of `flow` (e.g. "password-reset") to `address` against `limit`
    (Flask-Limiter syntax, several separated by ';'): False when the address had its share,
    and the caller sends nothing (answering the visitor the same way). Counted in the
    rate-limit store, so every worker agrees (Redis in production); the address is kept
    there only as a hash."""
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]
    allowed = True
    for item in parse_many(limit):
        allowed = limiter.limiter.hit(item, "mail-recipient", flow, digest) and allowed
    return allowed


def _render_optional(template_name: str, /, **context: Any) -> str | None:
    # Positional-only: mail contexts often carry a `name` of their own.
    try:
        current_app.jinja_env.get_template(template_name)
    except TemplateNotFound:
        return None
    return render_template(template_name, **context)


def release(message: OutboxMessage, actor: User) -> None:
    """Staff reviewed a held message: let it go."""
    if message.status != MailStatus.HELD:
        raise Conflict(_l("This message was already released."), code="already_done")
    message.status = MailStatus.QUEUED
    message.released_by_id = actor.id
    record("outbox.released", actor=actor, object_type="outbox_message", object_id=message.id,
           details={"to": message.to_addr, "subject": message.subject})
    jobs.enqueue("portal.notify.jobs.send_message", message.id)


def retry(message: OutboxMessage, actor: User) -> None:
    """Staff send a failed message again (from the first attempt)."""
    if message.status != MailStatus.FAILED:
        raise Conflict(_l("Only failed messages can be retried."))
    record("outbox.retried", actor=actor, object_type="outbox_message", object_id=message.id)
    message.status = MailStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = utcnow()
    jobs.enqueue("portal.notify.jobs.send_message", message.id)
