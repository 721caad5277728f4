"""The registration's lifecycle table, walked: every service that changes a registration's
state makes exactly the moves the table has, whoever asks; every other move is refused by
the service and leaves the rows as they were (both backends).

For each service, each state (and "no registration yet" where the service creates one)
and each actor the portal knows, the service is asked once, in a transaction that is then
rolled back, so one world serves every case. The expectation comes from the table only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from portal import lifecycle, tokens
from portal.errors import PortalError
from portal.events import checkin, registration
from portal.events.codes import GUEST_TOKEN
from portal.events.lifecycle import (
    CANCELLABLE_STATES,
    LINKED_STATES,
    LIVE_STATES,
    NEW,
    REGISTRATION,
    SEAT_STATES,
    STORED_STATES,
    WAITLIST_STATES,
)
from portal.events.models import Event, Registration, RegStatus
from portal.extensions import db
from tests.events import factories

ACTORS = (lifecycle.STAFF, lifecycle.INSTITUTION, lifecycle.ALUMNUS, lifecycle.GUEST,
          lifecycle.CANDIDATE, lifecycle.REVIEWER, lifecycle.SYSTEM)


def test_the_sets_the_pages_use_come_from_the_table() -> None:
    assert {RegStatus.REGISTERED} == SEAT_STATES
    assert {RegStatus.WAITLISTED} == WAITLIST_STATES
    assert {RegStatus.PENDING, RegStatus.REGISTERED,
                                  RegStatus.WAITLISTED} == CANCELLABLE_STATES
    assert {RegStatus.REGISTERED, RegStatus.WAITLISTED} == LINKED_STATES
    assert set(RegStatus) - {RegStatus.CANCELLED} == LIVE_STATES
    assert set(STORED_STATES) == set(RegStatus)
    assert REGISTRATION.terminal() == {RegStatus.WALK_IN}
    # Only the portal promotes; only staff admit and record walk-ins.
    assert REGISTRATION.next_states(RegStatus.WAITLISTED, lifecycle.ALUMNUS) == {
        RegStatus.CANCELLED}


@dataclass
class World:
    event: Event
    staff: Any
    alumni: dict[str, tuple[Registration, Any]]  # state -> an alumnus's registration in it
    guests: dict[str, Registration]  # state -> a guest's registration in it
    newcomer: Any  # an alumnus without a registration


def _row(event: Event, record: Any, state: str) -> Registration:
    values: dict[str, Any] = {"status": state}
    if state != RegStatus.REGISTERED:
        values["registered_at"] = None
    if state == RegStatus.WAITLISTED:
        event.waitlist_last += 1
        values["waitlist_position"] = event.waitlist_last
    if state == RegStatus.PENDING:
        values["guest_salt"] = None
    if state == RegStatus.WALK_IN:
        values.update(source="walk_in", checked_in_at=event.starts_at - timedelta(hours=1))
    if state == RegStatus.CANCELLED:
        values["cancelled_at"] = event.starts_at - timedelta(days=20)
    return factories.registration(event, record, **values)


@pytest.fixture
def world(req, factory) -> World:
    event = factories.event(capacity=20, guests_allowed=True)
    alumni = {}
    for state in STORED_STATES:
        record = factories.alumnus(factory)[1]
        alumni[state] = (_row(event, record, state), record)
    guests = {s: _row(event, None, s) for s in STORED_STATES}
    return World(event, factory.staff(), alumni, guests, factories.alumnus(factory)[1])


def _snapshot(event_id: int) -> list[tuple[Any, ...]]:
    """Everything a move could change, read from the database (inside the transaction)."""
    db.session.expire_all()
    event = db.session.execute(select(Event.seats_taken, Event.waitlist_last)
                               .where(Event.id == event_id)).one()
    rows = db.session.execute(
        select(Registration.id, Registration.status, Registration.waitlist_position,
               Registration.checked_in_at, Registration.cancelled_at,
               Registration.guest_salt, Registration.pass_code, Registration.guest_name)
        .where(Registration.event_id == event_id).order_by(Registration.id)).all()
    return [tuple(event), *(tuple(r) for r in rows)]


def _status(registration_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Registration, registration_id).status


# Each service: the moves it makes, and how to ask it for the row in `state` as `actor`
# (returns the id of the row it should have changed). None: no such row for this service.
Ask = Callable[[World, str, str], int | None]


def _register(w: World, state: str, actor: str) -> int | None:
    if state == NEW:
        registration.register_alumnus(w.event, w.newcomer, acting_as=actor, notify=False)
        return db.session.scalars(select(Registration.id).where(
            Registration.alumnus_id == w.newcomer.id)).one()
    row, record = w.alumni[state]
    registration.register_alumnus(w.event, record, acting_as=actor, notify=False)
    return row.id


def _confirm(w: World, state: str, actor: str) -> int | None:
    if state == NEW:
        return None
    row = w.guests[state]
    secret = tokens.issue(GUEST_TOKEN, lifetime=timedelta(hours=1),
                          payload={"registration_id": row.id})
    registration.confirm_guest(secret, acting_as=actor)
    return row.id


def _request(w: World, state: str, actor: str) -> int | None:
    email = "newcomer@example.org" if state == NEW else w.guests[state].guest_email
    registration.request_guest(w.event, name="Asking Again", email=email,
                               institution="Clinic", language="en", acting_as=actor)
    return db.session.scalars(select(Registration.id).where(
        Registration.event_id == w.event.id, Registration.guest_email == email)).one()


def _cancel(w: World, state: str, actor: str) -> int | None:
    if state == NEW:
        return None
    row = w.guests[state]
    registration.cancel(row, acting_as=actor, notify=False)
    return row.id


def _promote(w: World, state: str, actor: str) -> int | None:
    if state == NEW:
        return None
    registration.fill_from_waitlist(w.event, acting_as=actor, notify=False)
    return w.guests[state].id


def _check_in(w: World, state: str, actor: str) -> int | None:
    if state == NEW:
        return None
    row = w.guests[state]
    checkin.check_in(w.event, row.pass_code, w.staff, acting_as=actor)
    return row.id


def _walk_in(w: World, state: str, actor: str) -> int | None:
    email = "walked.in@example.org" if state == NEW else w.guests[state].guest_email
    checkin.record_walk_in(w.event, name="At The Door", email=email, institution="",
                           actor=w.staff, acting_as=actor)
    return db.session.scalars(select(Registration.id).where(
        Registration.event_id == w.event.id, Registration.guest_email == email)).one()


# Services that choose their rows themselves (the line, first place first): for a row in
# another state, "refused" means they leave it alone.
PICK_THEIR_ROWS = {"fill_from_waitlist"}

SERVICES: dict[str, tuple[tuple[str, ...], Ask]] = {
    "register_alumnus": (("register", "join_waitlist"), _register),
    "confirm_guest": (("confirm", "confirm_waitlisted"), _confirm),
    "request_guest": (("request",), _request),
    "cancel": (("cancel",), _cancel),
    "fill_from_waitlist": (("promote",), _promote),
    "check_in": (("check_in",), _check_in),
    # At the door a pass holder found by e-mail is admitted as such.
    "record_walk_in": (("walk_in", "check_in"), _walk_in),
}


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_move_not_in_the_table_is_refused_whoever_asks(world: World,
                                                             service: str) -> None:
    moves, ask = SERVICES[service]
    problems = []
    for state in (NEW, *STORED_STATES):
        for actor in ACTORS:
            allowed = {m.target for name in moves
                       if (m := REGISTRATION.find(state, name, actor)) is not None}
            before = _snapshot(world.event.id)
            try:
                asked = ask(world, state, actor)
                if asked is None:  # no row in this state for this service to be asked about
                    db.session.rollback()
                    continue
            except PortalError as refused:
                if allowed:
                    problems.append(f"{state} by {actor}: refused ({refused}), the table "
                                    f"allows {sorted(allowed)}")
                elif _snapshot(world.event.id) != before:
                    problems.append(f"{state} by {actor}: refused, but rows changed")
            else:
                now = _status(asked)
                if allowed and now not in allowed:
                    problems.append(f"{state} by {actor}: now {now}, the table leads to "
                                    f"{sorted(allowed)}")
                if not allowed and (service not in PICK_THEIR_ROWS or now != state):
                    problems.append(f"{state} by {actor}: not in the table, yet {service} "
                                    f"answered (the row is now {now})")
            db.session.rollback()
    assert not problems, f"{service}:\n" + "\n".join(problems)
