"""Staff pages for the outbox and the audit log."""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portal.accounts.policy import current_account, staff_required
from portal.admin import bp, services
from portal.extensions import db
from portal.i18n import viewer_timezone
from portal.notify import services as notify
from portal.notify.models import MailStatus, OutboxMessage
from portal.web import back_to, page_or_partial, see_other


@bp.route("/outbox")
@staff_required
def outbox() -> ResponseReturnValue:
    filters = services.OutboxFilters.from_args(request.args)
    messages, counts = services.outbox_page(filters)
    return page_or_partial("admin/outbox.html", "admin/_outbox_table.html",
                           messages=messages, filters=filters, counts=counts,
                           statuses=list(MailStatus))


@bp.route("/outbox/<int:message_id>")
@staff_required
def outbox_message(message_id: int) -> ResponseReturnValue:
    message = db.get_or_404(OutboxMessage, message_id)
    attachments = services.outbox_message(message, current_account())
    return render_template("admin/outbox_message.html", message=message,
                           attachments=attachments)


@bp.post("/outbox/<int:message_id>/release")
@staff_required
def outbox_release(message_id: int) -> ResponseReturnValue:
    message = db.get_or_404(OutboxMessage, message_id)
    back_to(url_for("admin.outbox_message", message_id=message.id))
    notify.release(message, current_account())
    flash(_("Released: the message will be sent."), "success")
    return see_other("admin.outbox_message", message_id=message.id)


@bp.post("/outbox/<int:message_id>/retry")
@staff_required
def outbox_retry(message_id: int) -> ResponseReturnValue:
    message = db.get_or_404(OutboxMessage, message_id)
    back_to(url_for("admin.outbox_message", message_id=message.id))
    notify.retry(message, current_account())
    flash(_("The message will be tried again."), "success")
    return see_other("admin.outbox_message", message_id=message.id)


@bp.route("/audit")
@staff_required
def audit() -> ResponseReturnValue:
    filters = services.AuditFilters.from_args(request.args)
    events, actions = services.audit_page(filters, viewer_timezone())
    return page_or_partial("admin/audit.html", "admin/_audit_table.html",
                           events=events, actions=actions, filters=filters)
