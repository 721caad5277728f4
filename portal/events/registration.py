"""The seat logic: register, join the waitlist, cancel, promote, confirm guests.

Every decision about a seat is taken by the database, never by Python reading a count:
- the event row is locked first (`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite writing
  requests and jobs already hold the database write lock from BEGIN IMMEDIATE), so all
  seat and waitlist changes of one event happen one at a time, in the order the database
  grants the lock: that is the "arrival order";
- a seat is taken by `UPDATE events SET seats_taken = seats_taken + 1 WHERE id = :id AND
  seats_taken < capacity` and exists only if that UPDATE changed a row; a CHECK constraint
  keeps seats_taken within capacity even if a future change forgot the lock;
- a waitlist place is `waitlist_last + 1` of the locked row, stored under a UNIQUE
  (event, place) constraint: places are gap-free in acceptance order and never shared;
- UNIQUE (event, alumnus) and (event, guest e-mail) make one registration per person;
- cancelling a seat hands it to the first waitlisted person in the same transaction.

Guests (no account) do not hold anything until they confirm the e-mailed link: a typo or a
bot cannot block a seat, and "first come" for a guest is the moment of confirmation.

These functions flush but never commit; on an error the caller must roll back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import tokens
from portal.alumni.models import Alumnus
from portal.db import utcnow
from portal.events import mails
from portal.events.models import Event, EventStatus, Registration, RegSource, RegStatus
from portal.events.policy import eligible
from portal.extensions import db

GUEST_TOKEN = "event_guest"  # noqa: S105 (a token purpose, not a secret)
GUEST_TOKEN_LIFETIME = timedelta(hours=48)
# No 0/O, 1/I/L or U: a code read aloud or typed from a phone screen stays unambiguous.
PASS_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # noqa: S105
PASS_LENGTH = 12  # 30^12 ≈ 2^59 codes


class RegistrationError(Exception):
    """A rule refused the action; `message` is shown to the person."""

    default = _l("This is not possible right now.")

    def __init__(self, message: object = None) -> None:
        self.message = str(message or self.default)
        super().__init__(self.message)


class Closed(RegistrationError):
    default = _l("Registration for this event is not open.")


class NotEligible(RegistrationError):
    default = _l("This event is not open to you.")


class AlreadyRegistered(RegistrationError):
    default = _l("You are already registered for this event.")


class NotCancellable(RegistrationError):
    default = _l("This registration cannot be cancelled any more.")


class LinkInvalid(RegistrationError):
    default = _l("This link is not valid any more.")


class NotOnList(RegistrationError):
    default = _l("No registration for this event has this code.")


class AlreadyCheckedIn(RegistrationError):
    """Checking in twice: carries the registration so the page can say who and when."""

    def __init__(self, registration: Registration) -> None:
        self.registration = registration
        super().__init__(_l("Already checked in."))


# --- codes -----------------------------------------------------------------------------

def new_pass_code() -> str:
    return "".join(secrets.choice(PASS_ALPHABET) for _ in range(PASS_LENGTH))


def format_pass_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalize_code(text: str | None) -> str:
    """What staff typed or the camera read: case, spaces and dashes do not matter."""
    return "".join(c for c in (text or "").upper() if c.isalnum())[:40]


def guest_key(registration: Registration) -> str:
    """The secret part of a guest's personal link (see Registration.guest_salt)."""
    message = f"event-guest:{registration.id}:{registration.guest_salt}".encode()
    return hmac.new(current_app.secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


def guest_by_key(registration_id: int, key: str) -> Registration | None:
    registration = db.session.scalars(
        select(Registration).options(joinedload(Registration.event))
        .where(Registration.id == registration_id, Registration.guest_salt.is_not(None))).first()
    if registration is None or not hmac.compare_digest(guest_key(registration), key or ""):
        return None
    return registration


# --- the locked counters ------------------------------------------------------------------

def _lock_event(event_id: int) -> None:
    """Serialize seat changes of one event (a no-op statement on SQLite: see module doc)."""
    db.session.execute(select(Event.id).where(Event.id == event_id).with_for_update())


def _take_seat(event_id: int) -> bool:
    result = db.session.execute(
        update(Event)
        .where(Event.id == event_id, Event.seats_taken < Event.capacity)
        .values(seats_taken=Event.seats_taken + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _give_back_seat(event_id: int) -> None:
    db.session.execute(
        update(Event).where(Event.id == event_id, Event.seats_taken > 0)
        .values(seats_taken=Event.seats_taken - 1)
        .execution_options(synchronize_session=False))


def _next_place(event_id: int) -> int:
    db.session.execute(
        update(Event).where(Event.id == event_id)
        .values(waitlist_last=Event.waitlist_last + 1)
        .execution_options(synchronize_session=False))
    return db.session.scalar(select(Event.waitlist_last).where(Event.id == event_id))


def _seat_or_place(event_id: int) -> dict[str, object]:
    """Under the event lock: a seat if one is free, else the next waitlist place."""
    now = utcnow()
    if _take_seat(event_id):
        return {"status": RegStatus.REGISTERED, "registered_at": now,
                "waitlist_position": None}
    return {"status": RegStatus.WAITLISTED, "waitlisted_at": now,
            "waitlist_position": _next_place(event_id)}


def _expire(*objects: object) -> None:
    for obj in objects:
        if obj is not None and obj in db.session:
            db.session.expire(obj)


# --- alumni -------------------------------------------------------------------------------

def check_can_register(event: Event, alumnus: Alumnus | None) -> None:
    if not event.registration_open():
        raise Closed()
    if alumnus is None or not eligible(event, alumnus):
        raise NotEligible()


def register_alumnus(event: Event, alumnus: Alumnus, *, notify: bool = True) -> Registration:
    """A seat, or a waitlist place when the event is full. Raises RegistrationError."""
    check_can_register(event, alumnus)
    event_id = event.id
    _lock_event(event_id)
    db.session.refresh(event)  # the state under the lock: staff may have just cancelled it
    check_can_register(event, alumnus)
    existing = db.session.scalars(select(Registration).where(
        Registration.event_id == event_id, Registration.alumnus_id == alumnus.id)).first()
    if existing is not None and existing.status != RegStatus.CANCELLED:
        raise AlreadyRegistered()
    values = _seat_or_place(event_id)
    if existing is not None:
        # Registering again after cancelling: the row is reused (one per person), with a
        # new place at the end of the line and a new pass.
        changed = db.session.execute(
            update(Registration)
            .where(Registration.id == existing.id, Registration.status == RegStatus.CANCELLED)
            .values(cancelled_at=None, promoted_at=None, pass_code=new_pass_code(), **values)
            .execution_options(synchronize_session=False)).rowcount
        if changed != 1:
            raise AlreadyRegistered()
        _expire(existing)
        registration = existing
    else:
        registration = Registration(event_id=event_id, alumnus_id=alumnus.id,
                                    source=RegSource.ALUMNUS, pass_code=new_pass_code(),
                                    **values)
        db.session.add(registration)
        try:
            db.session.flush()
        except IntegrityError as exc:  # the same person, at the same moment, elsewhere
            raise AlreadyRegistered() from exc
    _expire(event)
    if notify:
        mails.registered(registration.id)
    return registration


# --- guests -------------------------------------------------------------------------------

def request_guest(event: Event, *, name: str, email: str, institution: str,
                  language: str) -> None:
    """Record a guest's request and e-mail a confirmation link. The page says the same
    whatever the address's state, so it cannot be used to learn who registered."""
    if not (event.guests_allowed and event.registration_open()):
        raise Closed()
    email = (email or "").strip().lower()
    existing = db.session.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.guest_email == email)).first()
    if existing is not None and existing.status in (RegStatus.REGISTERED,
                                                     RegStatus.WAITLISTED):
        mails.guest_link(existing.id)  # their personal link again, to their own address
        return
    if existing is not None and existing.status == RegStatus.WALK_IN:
        return
    if existing is None:
        existing = Registration(event_id=event.id, source=RegSource.GUEST, guest_email=email,
                                status=RegStatus.PENDING, pass_code=new_pass_code())
        db.session.add(existing)
    existing.status = RegStatus.PENDING
    existing.guest_name = name.strip()
    existing.guest_institution = institution.strip()
    existing.guest_language = language
    existing.cancelled_at = None
    db.session.flush()
    secret = tokens.issue(GUEST_TOKEN, lifetime=GUEST_TOKEN_LIFETIME,
                          payload={"registration_id": existing.id})
    mails.guest_confirm(existing.id, secret)


def confirm_guest(secret: str) -> tuple[Registration, str]:
    """Use the e-mailed link: the guest gets a seat or a waitlist place now. Returns the
    registration and the key of the guest's personal page."""
    token = tokens.peek(GUEST_TOKEN, secret)
    if token is None:
        raise LinkInvalid()
    registration = db.session.get(Registration, token.payload.get("registration_id"))
    if registration is None or registration.status != RegStatus.PENDING:
        raise LinkInvalid()
    event = db.session.get(Event, registration.event_id)
    if not (event.guests_allowed and event.registration_open()):
        raise Closed()
    if tokens.consume(GUEST_TOKEN, secret) is None:
        raise LinkInvalid()
    _lock_event(event.id)
    values = _seat_or_place(event.id)
    changed = db.session.execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.status == RegStatus.PENDING)
        .values(guest_salt=secrets.token_hex(8), **values)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise LinkInvalid()
    _expire(registration, event)
    mails.registered(registration.id)
    return registration, guest_key(registration)


# --- cancelling and the waitlist -----------------------------------------------------------

def cancel(registration: Registration, *, by_staff: bool = False,
           notify: bool = True) -> list[Registration]:
    """Cancel; a freed seat goes to the first waitlisted person in this transaction.
    Returns the promoted registrations (already mailed)."""
    event = db.session.get(Event, registration.event_id)
    if not by_staff and utcnow() >= event.starts_at:
        raise NotCancellable()
    _lock_event(event.id)
    now = utcnow()
    held_seat = db.session.execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.status == RegStatus.REGISTERED,
               Registration.checked_in_at.is_(None))
        .values(status=RegStatus.CANCELLED, cancelled_at=now)
        .execution_options(synchronize_session=False)).rowcount == 1
    promoted: list[Registration] = []
    if held_seat:
        _give_back_seat(event.id)
        promoted = fill_from_waitlist(event, notify=notify)
    else:
        changed = db.session.execute(
            update(Registration)
            .where(Registration.id == registration.id,
                   Registration.status.in_([RegStatus.WAITLISTED, RegStatus.PENDING]))
            .values(status=RegStatus.CANCELLED, cancelled_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if changed != 1:
            raise NotCancellable()
    _expire(registration, event)
    return promoted


def fill_from_waitlist(event: Event, *, notify: bool = True) -> list[Registration]:
    """Give every free seat to the waitlist, first place first (caller may hold the lock)."""
    _lock_event(event.id)
    db.session.refresh(event)
    if event.status != EventStatus.PUBLISHED or utcnow() >= event.starts_at:
        return []
    promoted: list[Registration] = []
    while True:
        candidate = db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id,
                   Registration.status == RegStatus.WAITLISTED)
            .order_by(Registration.waitlist_position).limit(1)).first()
        if candidate is None or not _take_seat(event.id):
            break
        now = utcnow()
        changed = db.session.execute(
            update(Registration)
            .where(Registration.id == candidate.id,
                   Registration.status == RegStatus.WAITLISTED)
            .values(status=RegStatus.REGISTERED, registered_at=now, promoted_at=now)
            .execution_options(synchronize_session=False)).rowcount
        _expire(candidate)
        if changed != 1:
            _give_back_seat(event.id)
            continue
        promoted.append(candidate)
    _expire(event)
    if notify:
        for registration in promoted:
            mails.promoted(registration.id)
    return promoted


def set_capacity(event: Event, capacity: int) -> bool:
    """Change the capacity unless more seats are taken than the new number; a larger
    capacity goes to the waitlist at once. False when refused."""
    _lock_event(event.id)
    changed = db.session.execute(
        update(Event).where(Event.id == event.id, Event.seats_taken <= capacity)
        .values(capacity=capacity).execution_options(synchronize_session=False)).rowcount
    _expire(event)
    if changed != 1:
        return False
    fill_from_waitlist(event)
    return True
