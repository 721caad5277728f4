"""Staff views of the outbox and the audit log: what the lists show, one page at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, func, select

from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.audit.services import record
from portal.extensions import db
from portal.listing import ListFilters, Page, choice, page_of, parse_date
from portal.notify.models import MailStatus, OutboxAttachment, OutboxMessage

PAGE = 50  # rows per page of the outbox and of the audit log


@dataclass(frozen=True)
class OutboxFilters(ListFilters):
    PER_PAGE = PAGE
    PER_PAGE_CHOICES = (PAGE,)

    status: str = ""
    q: str = ""

    @classmethod
    def parse(cls, args: Mapping[str, object]) -> dict[str, object]:
        return {"status": choice(args.get("status"), [str(s) for s in MailStatus]),
                "q": str(args.get("q") or "").strip().lower()[:254]}


def outbox_query(f: OutboxFilters) -> Select[tuple[OutboxMessage]]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if f.status:
        query = query.where(OutboxMessage.status == f.status)
    if f.q:
        query = query.where(OutboxMessage.to_addr.like(f"%{f.q}%"))
    return query


def outbox_page(f: OutboxFilters) -> tuple[Page[OutboxMessage], dict[str, int]]:
    """A page of messages (not counted: LIMIT + 1 says whether more follow) and the number
    of messages in each status."""
    counts = {str(status): n for status, n in db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()}
    return page_of(outbox_query(f), f.page, f.size, count=False), counts


def outbox_message(message: OutboxMessage, viewer: User) -> list[Row[Any]]:
    """Staff read a message (recorded: mails carry personal data); its attachments'
    names, types and sizes (not their bytes)."""
    record("outbox.viewed", actor=viewer, object_type="outbox_message", object_id=message.id)
    return list(db.session.execute(
        select(OutboxAttachment.filename, OutboxAttachment.content_type,
               func.length(OutboxAttachment.data).label("size"))
        .where(OutboxAttachment.message_id == message.id)).all())


@dataclass(frozen=True)
class AuditFilters(ListFilters):
    PER_PAGE = PAGE
    PER_PAGE_CHOICES = (PAGE,)
    ARG_NAMES = {"since": "from", "until": "to"}

    action: str = ""
    actor: str = ""
    object_type: str = ""
    object_id: str = ""
    since: date | None = None  # ?from=YYYY-MM-DD, a day in the viewer's zone
    until: date | None = None  # ?to=YYYY-MM-DD, included

    @classmethod
    def parse(cls, args: Mapping[str, object]) -> dict[str, object]:
        def text(name: str, size: int = 100) -> str:
            return str(args.get(name) or "").strip()[:size]

        return {"action": text("action"), "actor": text("actor", 254).lower(),
                "object_type": text("object_type", 40), "object_id": text("object_id", 64),
                "since": parse_date(args.get("from")), "until": parse_date(args.get("to"))}


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def audit_query(f: AuditFilters, zone: ZoneInfo) -> Select[tuple[AuditEvent]]:
    """Events matching the filters, newest first; dates are days in `zone`."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if f.action:
        query = query.where(AuditEvent.action.like(f.action + "%"))
    if f.actor:
        query = query.where(func.lower(AuditEvent.actor_label).like(f"%{f.actor}%"))
    if f.object_type:
        query = query.where(AuditEvent.object_type == f.object_type)
    if f.object_id:
        query = query.where(AuditEvent.object_id == f.object_id)
    if f.since is not None:
        query = query.where(AuditEvent.at >= _start_of(f.since, zone))
    if f.until is not None:
        query = query.where(AuditEvent.at < _start_of(f.until, zone) + timedelta(days=1))
    return query


def audit_page(f: AuditFilters, zone: ZoneInfo) -> tuple[Page[AuditEvent], list[str]]:
    """A page of events (not counted) and every action recorded, for the filter menu."""
    actions = list(db.session.scalars(
        select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
    return page_of(audit_query(f, zone), f.page, f.size, count=False), actions
