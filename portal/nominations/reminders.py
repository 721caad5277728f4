"""Deadline reminders: institutions with unfinished nominations hear 7 days and 1 day
before the deadline, once each (`flask send-reminders`, or the periodic tick)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts.services import external_url
from portal.cycles.models import Cycle, CycleStatus
from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.mails import nominators_of
from portal.nominations.models import EDITABLE_STATES, Nomination, ReminderSent
from portal.notify.services import queue_mail
from portal.transaction import run_unit

log = logging.getLogger(__name__)
# (kind, how long before the deadline it is due), the latest first.
SCHEDULE = (("1d", timedelta(days=1)), ("7d", timedelta(days=7)))


def due_kind(cycle: Cycle, now: datetime) -> str | None:
    """The reminder due now: the one of the nearest threshold already crossed. When both
    are crossed (a late publication), only "1d" is sent; "7d" is then pointless."""
    left = cycle.closes_at - now
    if left <= timedelta(0):
        return None
    for kind, before in SCHEDULE:
        if left <= before:
            return kind
    return None


def _workspace_link() -> str:
    """The link to the workspace, also from the command line (no request there)."""
    if has_request_context():
        return external_url("nominations.index")
    base = current_app.config["BASE_URL"].rstrip("/")
    # A writing method, so the SQLite begin hook keeps its write lock semantics.
    with current_app.test_request_context("/", base_url=base, method="POST"):
        return external_url("nominations.index")


def _send_for_cycle(cycle_id: int, now: datetime, link: str) -> int:
    """The reminders of one cycle that are due (one unit of work). Returns how many
    institutions were told."""
    cycle = db.session.get(Cycle, cycle_id)
    kind = due_kind(cycle, now) if cycle is not None else None
    if cycle is None or kind is None:
        return 0
    drafts = db.session.scalars(
        select(Nomination).where(Nomination.cycle_id == cycle.id,
                                 Nomination.state.in_(EDITABLE_STATES))
        .order_by(Nomination.institution_id, Nomination.id)).all()
    by_institution: dict[int, list[Nomination]] = {}
    for n in drafts:
        by_institution.setdefault(n.institution_id, []).append(n)
    done = set(db.session.scalars(select(ReminderSent.institution_id).where(
        ReminderSent.cycle_id == cycle.id, ReminderSent.kind == kind)))
    told = 0
    for institution_id, mine in by_institution.items():
        if institution_id in done:
            continue
        try:
            with db.session.begin_nested():
                db.session.add(ReminderSent(cycle_id=cycle.id, institution_id=institution_id,
                                            kind=kind, sent_at=now))
        except IntegrityError:  # another run sent it in the meantime
            continue
        institution = db.session.get(Institution, institution_id)
        days = 1 if kind == "1d" else 7
        for user in nominators_of(institution_id):
            queue_mail(
                user.email, "nomination_reminder",
                subject=_l("Deadline of %(cycle)s: %(n)d unfinished nominations",
                           cycle=cycle.name, n=len(mine)),
                language=user.language, name=user.name, cycle=cycle, drafts=mine,
                days=days, zone=institution.timezone if institution else None,
                link=link)
        told += 1
    return told


def send_due(now: datetime | None = None) -> int:
    """Send every reminder that is due, each cycle in a unit of work of its own. Returns
    how many institutions were told."""
    now = now or utcnow()
    link = _workspace_link()
    cycle_ids = list(db.session.scalars(select(Cycle.id).where(
        Cycle.status == CycleStatus.PUBLISHED, Cycle.closes_at > now,
        Cycle.closes_at <= now + timedelta(days=7), Cycle.opens_at <= now)
        .order_by(Cycle.id)))
    told = sum(run_unit(_send_for_cycle, cycle_id, now, link) for cycle_id in cycle_ids)
    log.info("nomination reminders: %d institutions told", told)
    return told
