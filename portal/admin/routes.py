"""Staff pages for the outbox and the audit log."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from portal.accounts.policy import staff_required
from portal.admin import bp
from portal.audit.models import AuditEvent
from portal.audit.services import record
from portal.extensions import db
from portal.i18n import viewer_timezone
from portal.notify import services as notify
from portal.notify.models import MailStatus, OutboxAttachment, OutboxMessage
from portal.web import page_or_partial

PAGE = 50


def _page() -> int:
    return max(request.args.get("page", 1, type=int), 1)


@bp.route("/outbox")
@staff_required
def outbox():
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip().lower()
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status in {str(s) for s in MailStatus}:
        query = query.where(OutboxMessage.status == status)
    if q:
        query = query.where(OutboxMessage.to_addr.like(f"%{q}%"))
    messages = db.session.scalars(query.limit(PAGE + 1).offset((_page() - 1) * PAGE)).all()
    counts = dict(db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all())
    return page_or_partial("admin/outbox.html", "admin/_outbox_table.html",
                           messages=messages[:PAGE], has_more=len(messages) > PAGE,
                           page=_page(), status=status, q=q, counts=counts,
                           statuses=list(MailStatus))


@bp.route("/outbox/<int:message_id>")
@staff_required
def outbox_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    attachments = db.session.execute(
        select(OutboxAttachment.filename, OutboxAttachment.content_type,
               func.length(OutboxAttachment.data).label("size"))
        .where(OutboxAttachment.message_id == message.id)
    ).all()
    record("outbox.viewed", object_type="outbox_message", object_id=message.id)
    db.session.commit()
    return render_template("admin/outbox_message.html", message=message,
                           attachments=attachments)


@bp.post("/outbox/<int:message_id>/release")
@staff_required
def outbox_release(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    if message.status != MailStatus.HELD:
        flash(_("This message was already released."), "warning")
    else:
        notify.release(message, current_user.id)
        record("outbox.released", object_type="outbox_message", object_id=message.id,
               details={"to": message.to_addr, "subject": message.subject})
        db.session.commit()
        flash(_("Released: the message will be sent."), "success")
    return redirect(url_for("admin.outbox_message", message_id=message.id), 303)


@bp.post("/outbox/<int:message_id>/retry")
@staff_required
def outbox_retry(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    if message.status != MailStatus.FAILED:
        flash(_("Only failed messages can be retried."), "warning")
    else:
        notify.retry(message)
        record("outbox.retried", object_type="outbox_message", object_id=message.id)
        db.session.commit()
        flash(_("The message will be tried again."), "success")
    return redirect(url_for("admin.outbox_message", message_id=message.id), 303)


def _day(value: str, end: bool = False) -> datetime | None:
    """A date typed by staff, as the start (or end) of that day in their time zone."""
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    local = datetime.combine(day, time.min, tzinfo=viewer_timezone())
    return local + timedelta(days=1) if end else local


@bp.route("/audit")
@staff_required
def audit():
    args = request.args
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if args.get("action"):
        query = query.where(AuditEvent.action.like(args["action"].strip() + "%"))
    if args.get("actor"):
        query = query.where(func.lower(AuditEvent.actor_label).like(
            f"%{args['actor'].strip().lower()}%"))
    if args.get("object_type"):
        query = query.where(AuditEvent.object_type == args["object_type"])
    if args.get("object_id"):
        query = query.where(AuditEvent.object_id == args["object_id"].strip())
    if (start := _day(args.get("from", ""))) is not None:
        query = query.where(AuditEvent.at >= start)
    if (end := _day(args.get("to", ""), end=True)) is not None:
        query = query.where(AuditEvent.at < end)
    events = db.session.scalars(query.limit(PAGE + 1).offset((_page() - 1) * PAGE)).all()
    actions = db.session.scalars(
        select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    return page_or_partial("admin/audit.html", "admin/_audit_table.html",
                           events=events[:PAGE], has_more=len(events) > PAGE, page=_page(),
                           actions=actions, args=args)
