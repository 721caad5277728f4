"""Events, the staff side: editing, publishing and cancelling, the lists and exports,
materials, messages to registrants, feedback results, record merges.

No request objects here and never a commit: the request (or the unit of work of a command)
commits once. Each change writes its audit record with the actor passed in. Seat rules
live in registration.py; what alumni and guests see in viewer.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, ClassVar
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import joinedload, selectinload

from portal import exports
from portal.accounts.models import User
from portal.alumni.models import Alumnus
from portal.audit.services import record
from portal.cycles.models import Specialty
from portal.db import utcnow
from portal.events import mails, registration
from portal.events.errors import CapacityBelowTaken, MaterialRejected
from portal.events.labels import status_label
from portal.events.lifecycle import (
    CANCELLABLE_STATES,
    REGISTRATION,
    STORED_STATES,
    TOLD_STATES,
    WAITLIST_STATES,
)
from portal.events.models import Event, EventMaterial, EventStatus, Feedback, Registration
from portal.events.queries import rows_changed
from portal.events.queries import waitlist_ranks as waitlist_ranks  # part of this API
from portal.extensions import db
from portal.lifecycle import STAFF, SYSTEM
from portal.listing import ListFilters, Page, choice, page_of
from portal.storage import FileRejected, store_upload
from portal.storage.checks import FileTooLarge
from portal.storage.models import Blob

EDITABLE = ("kind", "title", "description", "speakers", "city", "country", "address",
            "venue_timezone", "mode", "online_link", "eligible_countries",
            "eligible_specialties", "guests_allowed", "cpd_hours")
LOCAL_TIMES = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")
MATERIAL_TYPES = frozenset({"pdf", "jpeg", "png"})
XLSX = exports.XLSX_MIMETYPE


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

def specialty_choices() -> list[tuple[str, str]]:
    """Specialty codes known from cycles and alumni records (the event form's choices)."""
    names: dict[str, str] = {}
    for code, name in db.session.execute(select(Specialty.code, Specialty.name).distinct()):
        names.setdefault(code, name)
    for (code,) in db.session.execute(select(Alumnus.specialty).distinct()):
        if code:
            names.setdefault(code, code.replace("_", " ").capitalize())
    return sorted(names.items(), key=lambda kv: str(kv[1]).lower())


def save_event(event: Event | None, data: Mapping[str, Any], actor: User) -> Event:
    """Create or update from form data (times are the venue's wall clock). A capacity
    below the seats taken is refused (CapacityBelowTaken) before anything changes."""
    creating = event is None
    changed = []
    if event is None:
        event = Event(status=EventStatus.DRAFT, created_by_id=actor.id, seats_taken=0,
                      waitlist_last=0, capacity=data["capacity"])
        db.session.add(event)
    elif data["capacity"] != event.capacity:
        if not registration.set_capacity(event, data["capacity"], fill=False):
            raise CapacityBelowTaken(event.seats_taken)
        changed.append("capacity")
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
    if "capacity" in changed:
        registration.fill_from_waitlist(event)  # more seats: the line moves up now
    record("event.created" if creating else "event.updated", actor=actor,
           object_type="event", object_id=event.id, details={"fields": changed})
    return event


def publish(event: Event, actor: User) -> None:
    if event.status != EventStatus.DRAFT:
        return
    event.status = EventStatus.PUBLISHED
    event.published_at = utcnow()
    record("event.published", actor=actor, object_type="event", object_id=event.id)


def cancel_event(event: Event, actor: User | None) -> int:
    """Cancel the event and tell everyone registered or waitlisted; returns how many."""
    if event.status == EventStatus.CANCELLED:
        return 0
    event.status = EventStatus.CANCELLED
    event.cancelled_at = utcnow()
    people = db.session.scalars(
        select(Registration).options(*mails.with_people())
        .where(Registration.event_id == event.id,
               Registration.status.in_(TOLD_STATES))).all()
    told = sum(1 for r in people if mails.event_cancelled(r))
    record("event.cancelled", actor=actor, object_type="event", object_id=event.id,
           details={"told": told})
    return told


def cancel_registration(reg: Registration, actor: User) -> list[Registration]:
    """Staff cancel someone's registration (at any time); a freed seat goes to the line.
    Returns the promoted registrations."""
    promoted = registration.cancel(reg, acting_as=STAFF)
    record("event.registration_cancelled", actor=actor, object_type="event",
           object_id=reg.event_id,
           details={"registration": reg.id, "promoted": [r.id for r in promoted]})
    return promoted


# --- staff lists --------------------------------------------------------------------------

@dataclass(frozen=True)
class EventFilters(ListFilters):
    """The staff list of events: newest first, by status."""

    PER_PAGE: ClassVar[int] = 50

    status: str = ""

    @classmethod
    def parse(cls, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"status": choice(args.get("status"), [str(s) for s in EventStatus])}


def staff_events(filters: EventFilters) -> Page[Event]:
    query = select(Event).order_by(Event.starts_at.desc(), Event.id.desc())
    if filters.status:
        query = query.where(Event.status == filters.status)
    return page_of(query, filters.page, filters.size)


def registrants(event_id: int) -> list[Registration]:
    """Everyone who ever registered, in the lifecycle's display order (seat holders
    first, then the line in order)."""
    order = case(*((Registration.status == s, i) for i, s in enumerate(STORED_STATES)),
                 else_=len(STORED_STATES))
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
    result = {str(s): 0 for s in STORED_STATES} | {str(status): n for status, n in rows}
    result["attended"] = db.session.scalar(select(func.count()).where(
        Registration.event_id == event_id, Registration.checked_in_at.is_not(None))) or 0
    return result


def staff_page(event_id: int) -> dict[str, Any]:
    """What the staff page of an event shows, in a fixed number of queries."""
    return {"counts": counts(event_id), "registrants": registrants(event_id),
            "ranks": waitlist_ranks(event_id), "materials": materials_of(event_id),
            "results": feedback_results(event_id),
            # Who staff may still cancel (the attended are history, not cancellable).
            "staff_cancellable": REGISTRATION.sources("cancel", STAFF)}


def export_rows(event_id: int) -> tuple[list[str], list[list[Any]]]:
    ranks = waitlist_ranks(event_id)
    header = [_("Name"), _("E-mail"), _("Institution"), _("Country"), _("Type"), _("Status"),
              _("Waitlist place"), _("Registered at"), _("Checked in at")]
    rows = []
    for r in registrants(event_id):
        if r.alumnus_id is not None and r.alumnus is not None:
            a = r.alumnus
            email = a.user.email if a.user is not None else (a.email or "")
            institution, country = a.institution_now, a.country
        else:
            email, institution, country = r.guest_email or "", r.guest_institution or "", ""
        rows.append([r.person_name(), email, institution, country, r.source,
                     status_label(r.status), ranks.get(r.id), r.registered_at or r.created_at,
                     r.checked_in_at])
    return header, rows


def export_registrations(event: Event, fmt: str, actor: User) -> tuple[bytes, str, str]:
    """The attendee and waitlist list as CSV or XLSX: (data, file name, type), logged."""
    header, rows = export_rows(event.id)
    record("event.exported", actor=actor, object_type="event", object_id=event.id,
           details={"format": fmt, "rows": len(rows)})
    name = f"event-{event.id}-registrations.{fmt}"
    if fmt == "csv":
        return exports.to_csv(header, rows), name, "text/csv"
    return exports.to_xlsx(header, rows, "Registrations"), name, XLSX


def message_registrants(event: Event, subject: str, body: str, *, include_waitlist: bool,
                        actor: User) -> int:
    statuses = TOLD_STATES if include_waitlist else TOLD_STATES - WAITLIST_STATES
    people = db.session.scalars(
        select(Registration).options(*mails.with_people())
        .where(Registration.event_id == event.id, Registration.status.in_(statuses))).all()
    sent = sum(1 for r in people if mails.staff_message(r, subject, body))
    record("event.messaged", actor=actor, object_type="event", object_id=event.id,
           details={"recipients": sent, "subject": subject[:200]})
    return sent


# --- materials ----------------------------------------------------------------------------

def materials_of(event_id: int) -> list[EventMaterial]:
    return list(db.session.scalars(
        select(EventMaterial).options(joinedload(EventMaterial.blob))
        .where(EventMaterial.event_id == event_id).order_by(EventMaterial.id)))


def material_of(event_id: int, material_id: int) -> EventMaterial | None:
    """One material of one event (with its blob), or None: every download of a material
    (alumni, guests, staff) and its removal look it up here."""
    return db.session.scalars(
        select(EventMaterial).options(joinedload(EventMaterial.blob))
        .where(EventMaterial.id == material_id, EventMaterial.event_id == event_id)).first()


def add_material(event: Event, stream: BinaryIO, filename: str | None, title: str,
                 actor: User) -> EventMaterial:
    """Check and store an upload as a material of the event (MaterialRejected: refused,
    with 413 when it is over EVENT_MATERIAL_MAX_MB)."""
    max_bytes = current_app.config["EVENT_MATERIAL_MAX_MB"] * 1024 * 1024
    try:
        blob: Blob = store_upload(stream, original_name=filename, allowed=set(MATERIAL_TYPES),
                                  max_bytes=max_bytes, user_id=actor.id)
    except FileTooLarge as exc:
        raise MaterialRejected(exc.message, status=413, code="too_large") from exc
    except FileRejected as exc:
        raise MaterialRejected(exc.message) from exc
    material = EventMaterial(event_id=event.id, blob_id=blob.id,
                             title=title or blob.original_name, created_by_id=actor.id)
    db.session.add(material)
    db.session.flush()
    record("event.material_added", actor=actor, object_type="event", object_id=event.id,
           details={"material": material.id, "name": blob.original_name})
    return material


def remove_material(material: EventMaterial, actor: User) -> None:
    record("event.material_removed", actor=actor, object_type="event",
           object_id=material.event_id, details={"material": material.id})
    db.session.delete(material)


# --- feedback -----------------------------------------------------------------------------

def feedback_results(event_id: int) -> dict[str, Any]:
    average, count = db.session.execute(
        select(func.avg(Feedback.rating), func.count(Feedback.id))
        .where(Feedback.event_id == event_id)).one()
    spread: dict[int, int] = {rating: n for rating, n in db.session.execute(
        select(Feedback.rating, func.count()).where(Feedback.event_id == event_id)
        .group_by(Feedback.rating)).all()}
    comments = db.session.scalars(
        select(Feedback).where(Feedback.event_id == event_id, Feedback.comment != "")
        .order_by(Feedback.created_at.desc())).all()
    return {"average": float(average) if average is not None else None, "count": count,
            "spread": [(n, spread.get(n, 0)) for n in range(5, 0, -1)], "comments": comments}


# --- record merges (portal.alumni.services.MERGE_HOOKS) -------------------------------------

def _rank(reg: Registration) -> tuple[int, int]:
    """Attended first, then the lifecycle's display order (a seat, then the line...)."""
    return (1 if reg.attended else 0, -STORED_STATES.index(reg.status))


def move_registrations(from_alumnus_id: int, into_alumnus_id: int) -> None:
    """Registrations follow the surviving record. Where both records registered for the
    same event, the better registration (attended, then seat, then waitlist) survives and
    the other is cancelled by the portal, its seat going to the waitlist; the loser stays
    on the merged record as history."""
    mine = db.session.scalars(
        select(Registration).where(Registration.alumnus_id == from_alumnus_id)
        .options(selectinload(Registration.event))).all()
    theirs = {r.event_id: r for r in db.session.scalars(
        select(Registration).where(Registration.alumnus_id == into_alumnus_id))}
    for reg in mine:
        other = theirs.get(reg.event_id)
        if other is None:
            _set_owner(reg.id, into_alumnus_id)
            continue
        keep, drop = (reg, other) if _rank(reg) > _rank(other) else (other, reg)
        if drop.status in CANCELLABLE_STATES and not drop.attended:
            registration.cancel(drop, acting_as=SYSTEM)
        if keep is reg:
            # (event, alumnus) is unique: park the loser for a moment, inside this
            # transaction, so the two rows can change owners.
            _set_owner(other.id, None)
            _set_owner(reg.id, into_alumnus_id)
            _set_owner(other.id, from_alumnus_id)
    db.session.expire_all()


def _set_owner(registration_id: int, alumnus_id: int | None) -> None:
    rows_changed(update(Registration).where(Registration.id == registration_id)
                 .values(alumnus_id=alumnus_id))
