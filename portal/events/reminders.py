"""Mail that is due by the clock: a reminder before the event (EVENT_REMINDER_DAYS), the
certificate and survey after it (for events that ended within EVENT_FOLLOW_UP_DAYS). Run
by `flask send-reminders` and the periodic tick; each mail goes once.

Each registration is claimed by a conditional UPDATE in the same transaction as its
outbox row, so two runs at once (cron on two machines) never send the same mail twice.
Outside a request the run is one unit of work (portal.transaction.run_unit); inside one,
the request's.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, has_request_context
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from portal.alumni.models import Alumnus
from portal.db import utcnow
from portal.events import certificates, mails
from portal.events.lifecycle import SEAT_STATES
from portal.events.models import Event, EventStatus, Registration
from portal.events.queries import rows_changed
from portal.extensions import db
from portal.transaction import run_unit


def _claim(registration_id: int, column: str, *, seat_holders: bool = False) -> bool:
    stamp = getattr(Registration, column)
    query = update(Registration).where(Registration.id == registration_id, stamp.is_(None))
    if seat_holders:
        query = query.where(Registration.status.in_(SEAT_STATES))
    return rows_changed(query.values({column: utcnow()})) == 1


def _load(ids: list[int]) -> list[Registration]:
    return list(db.session.scalars(
        select(Registration).options(
            joinedload(Registration.event),
            joinedload(Registration.alumnus).joinedload(Alumnus.user))
        .where(Registration.id.in_(ids)).execution_options(populate_existing=True)))


def send_due() -> int:
    """Queue the reminders and follow-ups that are due; returns how many were queued."""
    if has_request_context():
        return _send_due()
    # Mail links are built with url_for, which needs a request: a writing one, so that
    # SQLite takes the write lock at BEGIN (see portal._sqlite_begin).
    with current_app.test_request_context("/", base_url=current_app.config["BASE_URL"],
                                          method="POST"):
        return run_unit(_send_due)


def _send_due() -> int:
    now = utcnow()
    remind_before = timedelta(days=current_app.config["EVENT_REMINDER_DAYS"])
    follow_up_within = timedelta(days=current_app.config["EVENT_FOLLOW_UP_DAYS"])
    reminder_ids = db.session.scalars(
        select(Registration.id).join(Event, Event.id == Registration.event_id)
        .where(Event.status == EventStatus.PUBLISHED, Event.starts_at > now,
               Event.starts_at <= now + remind_before,
               Registration.status.in_(SEAT_STATES),
               Registration.reminded_at.is_(None))).all()
    claimed = [rid for rid in reminder_ids if _claim(rid, "reminded_at", seat_holders=True)]
    sent = sum(1 for reg in _load(claimed) if mails.reminder(reg))

    follow_ids = db.session.scalars(
        select(Registration.id).join(Event, Event.id == Registration.event_id)
        .where(Event.status == EventStatus.PUBLISHED, Event.ends_at <= now,
               Event.ends_at > now - follow_up_within,
               Registration.checked_in_at.is_not(None),
               Registration.followed_up_at.is_(None))).all()
    claimed = [rid for rid in follow_ids if _claim(rid, "followed_up_at")]
    for reg in _load(claimed):
        certificates.issue(reg, reg.event)
        sent += 1 if mails.follow_up(reg) else 0
    return sent
