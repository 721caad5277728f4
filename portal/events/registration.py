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

Which moves are possible is the lifecycle table's (lifecycle.py): each function checks
its move with `check_move` first and changes the row with a conditional UPDATE whose WHERE
names the move's source states, so the database applies the same table. `acting_as` is
the lifecycle actor the caller acts as (an alumnus's route: ALUMNUS; a guest's personal
link: GUEST; staff: STAFF; the portal itself: SYSTEM).

Guests (no account) do not hold anything until they confirm the e-mailed link: a typo or a
bot cannot block a seat, and "first come" for a guest is the moment of confirmation.

These functions flush but never commit: the caller's unit of work (the request, a job)
commits once, or rolls back on any error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal import tokens
from portal.alumni.models import Alumnus
from portal.db import utcnow
from portal.errors import PortalError
from portal.events import mails
from portal.events.codes import GUEST_TOKEN, guest_key, new_guest_salt, new_pass_code
from portal.events.errors import (
    AlreadyCancelled,
    AlreadyRegistered,
    Closed,
    LinkInvalid,
    NotCancellable,
    NotEligible,
    RegistrationError,
)
from portal.events.lifecycle import (
    CANCEL_ANY_TIME,
    LINKED_STATES,
    NEW,
    REGISTRATION,
    SEAT_STATES,
)
from portal.events.models import Event, EventStatus, Registration, RegSource
from portal.events.policy import eligible
from portal.events.queries import rows_changed
from portal.extensions import db
from portal.lifecycle import ALUMNUS, GUEST, SYSTEM, Move
from portal.notify.services import recipient_allows

# What a guest's request asks for; stored with a new registration, else at confirmation.
GUEST_DETAILS = ("guest_name", "guest_institution", "guest_language")


class GuestKnown(AlreadyRegistered):
    """A guest request for an address that already has a registration here. The page
    must say the same as for a new address, so the route does not show this refusal."""

    def __init__(self, registration_id: int) -> None:
        super().__init__(code="guest_known")
        self.registration_id = registration_id


def check_move(state: str, name: str, acting_as: str,
               refused: Callable[[], PortalError],
               done: Callable[[], PortalError] | None = None) -> Move:
    """`REGISTRATION.check` in this area's words. A move `acting_as` never makes: the
    table's own refusal. A move they make, but not from `state`: `refused()`, or `done()`
    when `state` is already where the move leads (a second click, a second tab)."""
    try:
        return REGISTRATION.check(state, name, [acting_as])
    except PortalError as exc:
        if not REGISTRATION.sources(name, acting_as):
            raise
        if done is not None and exc.code == "already_done":
            raise done() from exc
        raise refused() from exc


# --- the locked counters ------------------------------------------------------------------

def _lock_event(event_id: int) -> None:
    """Serialize seat changes of one event (a no-op statement on SQLite: see module doc)."""
    db.session.execute(select(Event.id).where(Event.id == event_id).with_for_update())


def _take_seat(event_id: int) -> bool:
    return rows_changed(
        update(Event)
        .where(Event.id == event_id, Event.seats_taken < Event.capacity)
        .values(seats_taken=Event.seats_taken + 1)) == 1


def _give_back_seat(event_id: int) -> None:
    rows_changed(update(Event).where(Event.id == event_id, Event.seats_taken > 0)
                 .values(seats_taken=Event.seats_taken - 1))


def _next_place(event_id: int) -> int:
    rows_changed(update(Event).where(Event.id == event_id)
                 .values(waitlist_last=Event.waitlist_last + 1))
    return int(db.session.scalar(select(Event.waitlist_last).where(Event.id == event_id)) or 0)


def _seat_or_place(event_id: int, seat: Move, line: Move) -> dict[str, object]:
    """Under the event lock: a seat if one is free (move `seat`), else the next waitlist
    place (move `line`)."""
    now = utcnow()
    if _take_seat(event_id):
        return {"status": seat.target, "registered_at": now, "waitlist_position": None}
    return {"status": line.target, "waitlisted_at": now,
            "waitlist_position": _next_place(event_id)}


def _expire(*objects: object) -> None:
    for obj in objects:
        if obj is not None and obj in db.session:
            db.session.expire(obj)


def _event_of(registration: Registration) -> Event:
    event = db.session.get(Event, registration.event_id)
    if event is None:  # the foreign key cascades: only a row deleted in this transaction
        raise RegistrationError()
    return event


# --- alumni -------------------------------------------------------------------------------

def check_can_register(event: Event, alumnus: Alumnus | None) -> None:
    if not event.registration_open():
        raise Closed()
    if alumnus is None or not eligible(event, alumnus):
        raise NotEligible()


def register_alumnus(event: Event, alumnus: Alumnus, *, acting_as: str = ALUMNUS,
                     notify: bool = True) -> Registration:
    """A seat, or a waitlist place when the event is full. Raises RegistrationError."""
    check_can_register(event, alumnus)
    event_id = event.id
    _lock_event(event_id)
    db.session.refresh(event)  # the state under the lock: staff may have just cancelled it
    check_can_register(event, alumnus)
    existing = db.session.scalars(select(Registration).where(
        Registration.event_id == event_id, Registration.alumnus_id == alumnus.id)).first()
    state = existing.status if existing is not None else NEW
    seat = check_move(state, "register", acting_as, AlreadyRegistered, AlreadyRegistered)
    line = check_move(state, "join_waitlist", acting_as, AlreadyRegistered, AlreadyRegistered)
    values = _seat_or_place(event_id, seat, line)
    if existing is not None:
        # Registering again after cancelling: the row is reused (one per person), with a
        # new place at the end of the line and a new pass.
        changed = rows_changed(
            update(Registration)
            .where(Registration.id == existing.id,
                   Registration.status.in_(REGISTRATION.sources(seat.name, acting_as)))
            .values(cancelled_at=None, promoted_at=None, pass_code=new_pass_code(), **values))
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
                  language: str, acting_as: str = GUEST) -> None:
    """Record a guest's request and e-mail a confirmation link. An address that already
    has a registration here raises GuestKnown (see `send_personal_link`).

    Asking again for an address whose registration waits for confirmation (or was
    cancelled) changes nothing stored: whoever asks may not be the owner of the address.
    It sends a confirmation link again (within EVENT_GUEST_MAIL_LIMIT), and the name,
    institution and language asked for travel in that link's token: they are stored when
    that link is confirmed, by whoever reads the mail."""
    if not (event.guests_allowed and event.registration_open()):
        raise Closed()
    email = (email or "").strip().lower()
    existing = db.session.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.guest_email == email)).first()
    state = existing.status if existing is not None else NEW
    known_id = existing.id if existing is not None else 0
    asked = check_move(state, "request", acting_as, lambda: GuestKnown(known_id))
    details = {"guest_name": name.strip(), "guest_institution": institution.strip(),
               "guest_language": language}
    if existing is None:
        row = Registration(event_id=event.id, source=RegSource.GUEST, guest_email=email,
                           pass_code=new_pass_code(), status=asked.target, **details)
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError as exc:  # the same address, at the same moment
            raise AlreadyRegistered() from exc
        registration_id = row.id
    else:
        changed = rows_changed(
            update(Registration)
            .where(Registration.id == existing.id,
                   Registration.status.in_(REGISTRATION.sources(asked.name, acting_as)))
            .values(status=asked.target, cancelled_at=None))
        if changed != 1:  # confirmed or recorded at the door in the meantime
            raise GuestKnown(existing.id)
        _expire(existing)
        registration_id = existing.id
    if not guest_mail_allowed(email):
        return  # the address had its share of mails: the same answer, no mail
    lifetime = timedelta(hours=current_app.config["EVENT_GUEST_LINK_HOURS"])
    secret = tokens.issue(GUEST_TOKEN, lifetime=lifetime,
                          payload={"registration_id": registration_id, **details})
    mails.guest_confirm(registration_id, secret)


def guest_mail_allowed(email: str) -> bool:
    """Anybody can type any address into the guest form: one address gets a few mails at
    most (EVENT_GUEST_MAIL_LIMIT), however many people ask."""
    return recipient_allows("event-guest", email, current_app.config["EVENT_GUEST_MAIL_LIMIT"])


def send_personal_link(registration_id: int) -> bool:
    """A confirmed guest asked again: their personal link, to their own address only.
    False (and no mail) for anyone else (unconfirmed, cancelled, a walk-in)."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.status not in LINKED_STATES:
        return False
    if not guest_mail_allowed(registration.guest_email or ""):
        return False
    mails.guest_link(registration.id)
    return True


def confirm_guest(secret: str, *, acting_as: str = GUEST) -> tuple[Registration, str]:
    """Use the e-mailed link: the guest gets a seat or a waitlist place now. Returns the
    registration and the key of the guest's personal page. Every refusal is LinkInvalid
    (worded for the case): the link's page says why."""
    token = tokens.peek(GUEST_TOKEN, secret)
    if token is None:
        raise LinkInvalid()
    registration = db.session.get(Registration, token.payload.get("registration_id"))
    if registration is None:
        raise LinkInvalid()
    seat = check_move(registration.status, "confirm", acting_as, LinkInvalid)
    line = check_move(registration.status, "confirm_waitlisted", acting_as, LinkInvalid)
    event = _event_of(registration)
    if not (event.guests_allowed and event.registration_open()):
        raise LinkInvalid(Closed.default_message)
    if tokens.consume(GUEST_TOKEN, secret) is None:
        raise LinkInvalid()
    _lock_event(event.id)
    values = _seat_or_place(event.id, seat, line)
    # What this link's request asked for (a repeat request stored nothing of its own).
    asked = {k: str(token.payload[k]) for k in GUEST_DETAILS if token.payload.get(k)}
    changed = rows_changed(
        update(Registration)
        .where(Registration.id == registration.id,
               Registration.status.in_(REGISTRATION.sources(seat.name, acting_as)))
        .values(guest_salt=new_guest_salt(), **asked, **values))
    if changed != 1:
        raise LinkInvalid()
    _expire(registration, event)
    mails.registered(registration.id)
    return registration, guest_key(registration)


# --- cancelling and the waitlist -----------------------------------------------------------

def cancel(registration: Registration, *, acting_as: str,
           notify: bool = True) -> list[Registration]:
    """Cancel; a freed seat goes to the first waitlisted person in this transaction.
    Returns the promoted registrations (already mailed). Alumni and guests cancel until
    the event starts, staff and the portal at any time; nobody cancels an attendance."""
    event = _event_of(registration)
    move = check_move(registration.status, "cancel", acting_as, NotCancellable,
                      AlreadyCancelled)
    if acting_as not in CANCEL_ANY_TIME and utcnow() >= event.starts_at:
        raise NotCancellable()
    _lock_event(event.id)
    now = utcnow()
    sources = REGISTRATION.sources(move.name, acting_as)
    held_seat = rows_changed(
        update(Registration)
        .where(Registration.id == registration.id,
               Registration.status.in_(sources & SEAT_STATES),
               Registration.checked_in_at.is_(None))
        .values(status=move.target, cancelled_at=now)) == 1
    promoted: list[Registration] = []
    if held_seat:
        _give_back_seat(event.id)
        promoted = fill_from_waitlist(event, notify=notify)
    else:
        changed = rows_changed(
            update(Registration)
            .where(Registration.id == registration.id,
                   Registration.status.in_(sources - SEAT_STATES),
                   Registration.checked_in_at.is_(None))
            .values(status=move.target, cancelled_at=now))
        if changed != 1:
            raise NotCancellable()
    _expire(registration, event)
    return promoted


def fill_from_waitlist(event: Event, *, acting_as: str = SYSTEM,
                       notify: bool = True) -> list[Registration]:
    """Give every free seat to the waitlist, first place first (caller may hold the lock)."""
    _lock_event(event.id)
    db.session.refresh(event)
    if event.status != EventStatus.PUBLISHED or utcnow() >= event.starts_at:
        return []
    sources = REGISTRATION.sources("promote")
    promoted: list[Registration] = []
    while True:
        candidate = db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.status.in_(sources))
            .order_by(Registration.waitlist_position).limit(1)).first()
        if candidate is None:
            break
        move = check_move(candidate.status, "promote", acting_as, RegistrationError)
        if not _take_seat(event.id):
            break
        now = utcnow()
        changed = rows_changed(
            update(Registration)
            .where(Registration.id == candidate.id,
                   Registration.status.in_(REGISTRATION.sources(move.name, acting_as)))
            .values(status=move.target, registered_at=now, promoted_at=now))
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


def set_capacity(event: Event, capacity: int, *, fill: bool = True) -> bool:
    """Change the capacity unless more seats are taken than the new number; a larger
    capacity goes to the waitlist at once (unless `fill` is off: the caller fills it when
    its other changes are made). False when refused, with nothing changed."""
    _lock_event(event.id)
    changed = rows_changed(
        update(Event).where(Event.id == event.id, Event.seats_taken <= capacity)
        .values(capacity=capacity))
    _expire(event)
    if changed != 1:
        return False
    if fill:
        fill_from_waitlist(event)
    return True
