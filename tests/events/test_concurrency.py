"""200 alumni register for 20 seats at the same moment, from 4 server processes.

The portal must end with exactly 20 seats sold and 180 people on the waitlist, in the order
the database accepted them. The same harness, run against a deliberately naive
read-then-write registration defined below, oversells: proof that the harness can see it.
"""

from __future__ import annotations

import time

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.alumni.models import Alumnus
from portal.events.codes import new_pass_code
from portal.events.models import Event, Registration, RegStatus
from portal.extensions import db
from tests.events import factories
from tests.events.concurrency import Person, run_burst, signed_in_client

PEOPLE, SEATS = 200, 20


def portal_register(app, event_id: int, person: Person) -> None:
    """Through the real route, as a signed-in alumnus's browser would."""
    response = signed_in_client(app, person).post(f"/events/{event_id}/register")
    assert response.status_code == 303, response.status_code


def naive_register(app, event_id: int, person: Person) -> None:
    """The bug the portal avoids: count the seats, think, then write (no lock, no counter).

    PostgreSQL: one READ COMMITTED transaction without locks. SQLite cannot keep a read
    snapshot across a write by another process (and the portal's connections take the
    write lock at BEGIN), so the read and the write are two transactions there.
    """
    alumnus_id = person[0]
    with app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            taken = conn.scalar(select(func.count()).select_from(Registration).where(
                Registration.event_id == event_id, Registration.status == RegStatus.REGISTERED))
            capacity = conn.scalar(select(Event.capacity).where(Event.id == event_id))
            if engine.dialect.name == "sqlite":
                conn.commit()
            time.sleep(0.02)  # the race window: someone else decides in the meantime
            full = taken >= capacity
            conn.execute(Registration.__table__.insert().values(
                event_id=event_id, alumnus_id=alumnus_id, source="alumnus",
                status=RegStatus.WAITLISTED if full else RegStatus.REGISTERED,
                pass_code=new_pass_code()))
            conn.commit()


def _world(app) -> tuple[int, list[Person]]:
    event_id = factories.event(capacity=SEATS, title="Popular lecture").id
    ids = factories.many_alumni(PEOPLE)
    rows = db.session.execute(
        select(Alumnus.id, User.id, User.session_token).join(User, User.id == Alumnus.user_id)
        .where(Alumnus.id.in_(ids))).all()
    # End the transaction: on SQLite a read outside a request holds the write lock (BEGIN
    # IMMEDIATE) until it ends, and the server processes need it.
    db.session.commit()
    return event_id, [tuple(r) for r in rows]


def test_200_registrations_for_20_seats_from_4_processes(app_ctx, tmp_path) -> None:
    event_id, people = _world(app_ctx)
    url = app_ctx.config["DATABASE_URL"]

    started = time.monotonic()
    errors = run_burst(url, tmp_path, event_id, people, f"{__name__}:portal_register")
    elapsed = time.monotonic() - started
    assert errors == [], errors[0]

    db.session.expire_all()
    rows = db.session.execute(
        select(Registration.id, Registration.alumnus_id, Registration.status,
               Registration.waitlist_position, Registration.waitlisted_at)
        .where(Registration.event_id == event_id).order_by(Registration.id)).all()
    assert len(rows) == PEOPLE
    assert len({r.alumnus_id for r in rows}) == PEOPLE  # one registration each
    # The first 20 the database accepted hold the seats ...
    assert [r.status for r in rows[:SEATS]] == [RegStatus.REGISTERED] * SEATS
    # ... and everyone after them is in line, places 1..180 in acceptance order.
    line = rows[SEATS:]
    assert {r.status for r in line} == {RegStatus.WAITLISTED}
    assert [r.waitlist_position for r in line] == list(range(1, PEOPLE - SEATS + 1))
    stamps = [r.waitlisted_at for r in line]
    assert stamps == sorted(stamps)
    assert db.session.get(Event, event_id).seats_taken == SEATS
    assert elapsed < 60


def test_the_harness_catches_a_naive_oversell(app_ctx, tmp_path) -> None:
    event_id, people = _world(app_ctx)
    url = app_ctx.config["DATABASE_URL"]

    errors = run_burst(url, tmp_path, event_id, people, f"{__name__}:naive_register")
    assert errors == [], errors[0]

    sold = db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.event_id == event_id, Registration.status == RegStatus.REGISTERED))
    assert sold > SEATS, f"the naive registration sold {sold} seats; the harness saw no race"
