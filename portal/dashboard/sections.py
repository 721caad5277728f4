"""The foundation's dashboard sections: what staff have waiting, who a nominator is with."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.institutions.models import Institution, InstitutionStatus
from portal.notify.models import MailStatus, OutboxMessage
from portal.registry import register_section


def _staff(user: User) -> dict[str, Any]:
    pending = db.session.scalar(select(func.count(Institution.id)).where(
        Institution.status == InstitutionStatus.REQUESTED))
    mail = {str(status): n for status, n in db.session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.status.in_([MailStatus.HELD, MailStatus.FAILED]))
        .group_by(OutboxMessage.status)).all()}
    return {"pending_requests": pending, "held_mail": mail.get(MailStatus.HELD, 0),
            "failed_mail": mail.get(MailStatus.FAILED, 0)}


def _nominator(user: User) -> dict[str, Any]:
    institution = db.session.get(Institution, user.institution_id) \
        if user.institution_id else None
    return {"institution": institution}


register_section(Role.STAFF, 10, "dashboard/_staff.html", _staff)
# The reviewer's section is the review area's own (portal.review.queue_routes).
