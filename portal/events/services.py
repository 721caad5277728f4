"""Events: staff editing, what alumni see, materials, feedback, messages, record merges.

No request objects here and never a commit: the route commits (one request, one
transaction). Seat rules live in registration.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import joinedload, selectinload

from portal.alumni.models import Alumnus
from portal.audit.services import record
from portal.db import utcnow
from portal.events import mails, policy, registration
from portal.events.models import (
    Event,
    EventMaterial,
    EventStatus,
    Feedback,
    Registration,
    RegStatus,
)
from portal.extensions import db

EDITABLE = ("kind", "title", "description", "speakers", "city", "country", "address",
            "venue_timezone", "mode", "online_link", "eligible_countries",
            "eligible_specialties", "guests_allowed", "cpd_hours")
LOCAL_TIMES = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")


class EventError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- times --------------------------------------------------------------------------------

def to_utc(local: datetime | None, zone: str) -> datetime | None:
    """A wall-clock time typed for the venue, as UTC."""
    if local is None:
        return None
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))


def to_local(value: datetime | None, zone: str) -> datetime | None:
    """The stored UTC time as the venue's wall clock (naive, for the form)."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


# --- staff editing ------------------------------------------------------------------------

def save_event(event: Event | None, data: dict[str, Any], actor: Any) -> Event:
    """Create or update from form data (times are the venue's wall clock)."""
    creating = event is None
    if creating:
        event = Event(status=EventStatus.DRAFT, created_by_id=actor.id, seats_taken=0,
                      waitlist_last=0, capacity=data["capacity"])
        db.session.add(event)
    changed = []
    for name in EDITABLE:
        value = data.get(name)
        if name in ("eligible_countries", "eligible_specialties"):
            value = sorted({v for v in (value or []) if v})
        if getattr(event, name) != value:
            changed.append(name)
            setattr(event, name, value)
    for name in LOCAL_TIMES:
        value = to_utc(data.get(name), data["venue_timezone"])
        if getattr(event, name) != value:
            changed.append(name)
            setattr(event, name, value)
    db.session.flush()
    if not creating and data["capacity"] != event.capacity:
        if not registration.set_capacity(event, data["capacity"]):
            raise EventError("capacity")
        changed.append("capacity")
    record("event.created" if creating else "event.updated", object_type="event",
           object_id=event.id, details={"fields": changed})
    return event


def publish(event: Event) -> None:
    if event.status != EventStatus.DRAFT:
        return
    event.status = EventStatus.PUBLISHED
    event.published_at = utcnow()
    record("event.published", object_type="event", object_id=event.id)


def cancel_event(event: Event) -> int:
    """Cancel the event and tell everyone registered or waitlisted; returns how many."""
    if event.status == EventStatus.CANCELLED:
        return 0
    event.status = EventStatus.CANCELLED
    event.cancelled_at = utcnow()
    people = db.session.scalars(
        select(Registration).options(*mails.with_people())
        .where(Registration.event_id == event.id,
               Registration.status.in_(policy.ACTIVE_STATUSES))).all()
    told = sum(1 for r in people if r.status != RegStatus.PENDING and mails.event_cancelled(r))
    record("event.cancelled", object_type="event", object_id=event.id,
           details={"told": told})
    return told


# --- what alumni see ----------------------------------------------------------------------

def my_registrations(alumnus: Alumnus | None, *, upcoming_only: bool = False) -> list[Registration]:
    if alumnus is None:
        return []
    query = (select(Registration).options(joinedload(Registration.event))
             .join(Event, Event.id == Registration.event_id)
             .where(Registration.alumnus_id == alumnus.id,
                    Registration.status != RegStatus.CANCELLED,
                    Event.status != EventStatus.DRAFT)
             .order_by(Event.starts_at.desc()))
    if upcoming_only:
        query = query.where(Event.ends_at > utcnow())
    return list(db.session.scalars(query))


def events_for(user: Any, alumnus: Alumnus | None) -> list[Event]:
    """Upcoming events this person may see: their own country first, then by date."""
    events = db.session.scalars(policy.published_upcoming()).all()
    mine = {r.event_id for r in my_registrations(alumnus, upcoming_only=True)}
    visible = [e for e in events if e.id in mine or policy.eligible(e, alumnus)]
    country = (alumnus.country if alumnus else "") or ""
    return sorted(visible, key=lambda e: (e.country != country, e.starts_at))


def dashboard_for(user: Any) -> dict[str, Any]:
    alumnus = policy.alumnus_of(user)
    registrations = my_registrations(alumnus, upcoming_only=True)
    registered = {r.event_id for r in registrations}
    eligible = [e for e in events_for(user, alumnus) if e.id not in registered]
    return {"alumnus": alumnus, "registrations": registrations, "eligible": eligible[:5]}


def waitlist_ranks(event_id: int) -> dict[int, int]:
    """Registration id -> place in line (1 = next to get a seat)."""
    ids = db.session.scalars(
        select(Registration.id).where(Registration.event_id == event_id,
                                      Registration.status == RegStatus.WAITLISTED)
        .order_by(Registration.waitlist_position)).all()
    return {rid: place for place, rid in enumerate(ids, start=1)}


# --- staff lists --------------------------------------------------------------------------

def registrants(event_id: int) -> list[Registration]:
    """Everyone who ever registered, seat holders first, then the line in order."""
    order = case(
        (Registration.status == RegStatus.REGISTERED, 0),
        (Registration.status == RegStatus.WALK_IN, 1),
        (Registration.status == RegStatus.WAITLISTED, 2),
        (Registration.status == RegStatus.PENDING, 3),
        else_=4)
    return list(db.session.scalars(
        select(Registration)
        .options(joinedload(Registration.alumnus).joinedload(Alumnus.user),
                 joinedload(Registration.checked_in_by))
        .where(Registration.event_id == event_id)
        .order_by(order, Registration.waitlist_position, Registration.id)))


def counts(event_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Registration.status, func.count()).where(Registration.event_id == event_id)
        .group_by(Registration.status)).all()
    result = {str(s): 0 for s in RegStatus} | {str(status): n for status, n in rows}
    result["attended"] = db.session.scalar(select(func.count()).where(
        Registration.event_id == event_id, Registration.checked_in_at.is_not(None))) or 0
    return result


def export_rows(event_id: int) -> tuple[list[str], list[list[Any]]]:
    from flask_babel import gettext as _

    from portal.events.labels import status_label

    ranks = waitlist_ranks(event_id)
    header = [_("Name"), _("E-mail"), _("Institution"), _("Country"), _("Type"), _("Status"),
              _("Waitlist place"), _("Registered at"), _("Checked in at")]
    rows = []
    for r in registrants(event_id):
        if r.alumnus_id is not None:
            a = r.alumnus
            email = a.user.email if a.user is not None else (a.email or "")
            institution, country = a.institution_now, a.country
        else:
            email, institution, country = r.guest_email or "", r.guest_institution or "", ""
        rows.append([r.person_name(), email, institution, country, r.source,
                     status_label(r.status), ranks.get(r.id), r.registered_at or r.created_at,
                     r.checked_in_at])
    return header, rows


def message_registrants(event: Event, subject: str, body: str, *,
                        include_waitlist: bool) -> int:
    statuses = [RegStatus.REGISTERED] + ([RegStatus.WAITLISTED] if include_waitlist else [])
    people = db.session.scalars(
        select(Registration).options(*mails.with_people())
        .where(Registration.event_id == event.id, Registration.status.in_(statuses))).all()
    sent = sum(1 for r in people if mails.staff_message(r, subject, body))
    record("event.messaged", object_type="event", object_id=event.id,
           details={"recipients": sent, "subject": subject[:200]})
    return sent


# --- materials ----------------------------------------------------------------------------

def materials_of(event_id: int) -> list[EventMaterial]:
    return list(db.session.scalars(
        select(EventMaterial).options(joinedload(EventMaterial.blob))
        .where(EventMaterial.event_id == event_id).order_by(EventMaterial.id)))


def add_material(event: Event, blob: Any, title: str, actor: Any) -> EventMaterial:
    material = EventMaterial(event_id=event.id, blob_id=blob.id, title=title or
                             blob.original_name, created_by_id=actor.id)
    db.session.add(material)
    db.session.flush()
    record("event.material_added", object_type="event", object_id=event.id,
           details={"material": material.id, "name": blob.original_name})
    return material


def remove_material(material: EventMaterial) -> None:
    record("event.material_removed", object_type="event", object_id=material.event_id,
           details={"material": material.id})
    db.session.delete(material)


# --- feedback -----------------------------------------------------------------------------

def give_feedback(reg: Registration, rating: int, comment: str) -> bool:
    """Once per attendee; False when they already answered."""
    from sqlalchemy.exc import IntegrityError

    try:
        with db.session.begin_nested():
            db.session.add(Feedback(registration_id=reg.id, event_id=reg.event_id,
                                    rating=rating, comment=comment.strip()))
    except IntegrityError:
        return False
    return True


def feedback_of(reg_id: int) -> Feedback | None:
    return db.session.scalars(select(Feedback).where(Feedback.registration_id == reg_id)).first()


def feedback_results(event_id: int) -> dict[str, Any]:
    average, count = db.session.execute(
        select(func.avg(Feedback.rating), func.count(Feedback.id))
        .where(Feedback.event_id == event_id)).one()
    spread = dict(db.session.execute(
        select(Feedback.rating, func.count()).where(Feedback.event_id == event_id)
        .group_by(Feedback.rating)).all())
    comments = db.session.scalars(
        select(Feedback).where(Feedback.event_id == event_id, Feedback.comment != "")
        .order_by(Feedback.created_at.desc())).all()
    return {"average": float(average) if average is not None else None, "count": count,
            "spread": [(n, spread.get(n, 0)) for n in range(5, 0, -1)], "comments": comments}


# --- record merges (portal.alumni.services.MERGE_HOOKS) -------------------------------------

_RANK = {RegStatus.REGISTERED: 3, RegStatus.WAITLISTED: 2, RegStatus.PENDING: 1}


def _rank(reg: Registration) -> tuple[int, int]:
    return (1 if reg.attended else 0, _RANK.get(reg.status, 0))


def move_registrations(from_alumnus_id: int, into_alumnus_id: int) -> None:
    """Registrations follow the surviving record. Where both records registered for the
    same event, the better registration (attended, then seat, then waitlist) survives and
    the other is cancelled, its seat going to the waitlist; the loser stays on the merged
    record as history."""
    mine = db.session.scalars(
        select(Registration).where(Registration.alumnus_id == from_alumnus_id)
        .options(selectinload(Registration.event))).all()
    theirs = {r.event_id: r for r in db.session.scalars(
        select(Registration).where(Registration.alumnus_id == into_alumnus_id))}
    for reg in mine:
        other = theirs.get(reg.event_id)
        if other is None:
            db.session.execute(update(Registration).where(Registration.id == reg.id)
                               .values(alumnus_id=into_alumnus_id)
                               .execution_options(synchronize_session=False))
            continue
        keep, drop = (reg, other) if _rank(reg) > _rank(other) else (other, reg)
        if drop.status in policy.ACTIVE_STATUSES and not drop.attended:
            registration.cancel(drop, by_staff=True)
        if keep is reg:
            # (event, alumnus) is unique: park the loser for a moment, inside this
            # transaction, so the two rows can change owners.
            _set_owner(other.id, None)
            _set_owner(reg.id, into_alumnus_id)
            _set_owner(other.id, from_alumnus_id)
    db.session.expire_all()


def _set_owner(registration_id: int, alumnus_id: int | None) -> None:
    db.session.execute(update(Registration).where(Registration.id == registration_id)
                       .values(alumnus_id=alumnus_id)
                       .execution_options(synchronize_session=False))
