"""Reading what the portal did: outbox rows, registrations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.events.models import Registration
from portal.extensions import db
from portal.notify.models import OutboxMessage


def mails(to: str | None = None, template: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).options(selectinload(OutboxMessage.attachments)) \
        .order_by(OutboxMessage.id)
    if to:
        query = query.where(OutboxMessage.to_addr == to.lower())
    if template:
        query = query.where(OutboxMessage.template == template)
    return list(db.session.scalars(query))


def reg(registration_id: int) -> Registration:
    return db.session.get(Registration, registration_id, populate_existing=True)


def registration_of(event_id: int, alumnus_id: int) -> Registration | None:
    return db.session.scalars(select(Registration).where(
        Registration.event_id == event_id, Registration.alumnus_id == alumnus_id)
        .execution_options(populate_existing=True)).first()
