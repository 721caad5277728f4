"""What the events area's modules share below the services: the waitlist order (mail
needs it too) and the count of rows a conditional UPDATE changed. No rules here.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Update, func, select

from portal.events.lifecycle import WAITLIST_STATES
from portal.events.models import Registration
from portal.extensions import db


def rows_changed(statement: Update) -> int:
    """Run a conditional UPDATE; how many rows it changed (0: its WHERE did not hold)."""
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return int(cast(CursorResult[Any], result).rowcount)


def waitlist_rank(registration: Registration) -> int:
    """1 for the first in line: places of people who left the line do not count."""
    if registration.waitlist_position is None:
        return 0
    return db.session.scalar(select(func.count(Registration.id)).where(
        Registration.event_id == registration.event_id,
        Registration.status.in_(WAITLIST_STATES),
        Registration.waitlist_position <= registration.waitlist_position)) or 0


def waitlist_ranks(event_id: int) -> dict[int, int]:
    """Registration id -> place in line (1 = next to get a seat)."""
    ids = db.session.scalars(
        select(Registration.id).where(Registration.event_id == event_id,
                                      Registration.status.in_(WAITLIST_STATES))
        .order_by(Registration.waitlist_position)).all()
    return {rid: place for place, rid in enumerate(ids, start=1)}

