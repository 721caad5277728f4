"""Small helpers of the foundation tests."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.extensions import db
from portal.notify.models import OutboxMessage


def outbox(to: str | None = None) -> list[OutboxMessage]:
    """Outbox rows as they are now in the database (oldest first)."""
    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if to:
        query = query.where(OutboxMessage.to_addr == to.lower())
    return list(db.session.scalars(query))


def link_path(message: OutboxMessage, base: str = "http://portal.test") -> str:
    """The path of the portal link in a mail (the test client speaks paths)."""
    match = re.search(re.escape(base) + r"(/\S+)", message.body_text)
    assert match, f"no link in {message.body_text!r}"
    return match.group(1)


def fresh(model, ident):  # noqa: ANN001, ANN201
    """The row as committed now (not what this test's session remembers)."""
    db.session.expire_all()
    return db.session.get(model, ident)


def client_at(app, ip: str):  # noqa: ANN001, ANN201
    """A test client that comes from the address `ip`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def flashes(response) -> list[str]:  # noqa: ANN001
    html = response.get_data(as_text=True)
    return [re.sub(r"\s+", " ", m).strip()
            for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', html, re.S)]


def audit(action: str, **where: object) -> list:
    """Audit events of `action` (and matching columns), oldest first."""
    from portal.audit.models import AuditEvent

    db.session.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return list(db.session.scalars(query))
