"""Seats, waitlist and cancellations as the service decides them (both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from portal.alumni.services import MERGE_HOOKS
from portal.db import utcnow
from portal.events import registration as seats
from portal.events import services
from portal.events.codes import new_pass_code
from portal.events.models import Event, Registration, RegStatus
from portal.extensions import db
from portal.lifecycle import ALUMNUS
from tests.events import factories
from tests.events.helpers import mails, reg


def test_a_seat_comes_with_a_confirmation_and_calendar_file(req, factory) -> None:
    user, record = factories.alumnus(factory, timezone="Asia/Tokyo")
    event = factories.event(capacity=2, title="Cath lab lecture")
    r = seats.register_alumnus(event, record)
    db.session.commit()

    assert r.status == RegStatus.REGISTERED
    assert db.session.get(Event, event.id).seats_taken == 1
    [mail] = mails(user.email)
    assert mail.template == "event_confirmation"
    assert "Cath lab lecture" in mail.subject
    # The venue's time (Bangkok) and the reader's own (Tokyo) are both in the mail.
    assert "(Asia/Bangkok)" in mail.body_text and "JST (Asia/Tokyo)" in mail.body_text
    [ics] = mail.attachments
    assert ics.content_type == "text/calendar"
    vevent = Calendar.from_ical(ics.data).walk("VEVENT")[0]
    assert str(vevent["summary"]) == "Cath lab lecture"
    assert vevent.decoded("dtstart") == event.starts_at


def test_when_full_people_join_the_waitlist_in_order(req, factory) -> None:
    event = factories.event(capacity=1)
    people = [factories.alumnus(factory)[1] for _ in range(3)]
    results = [seats.register_alumnus(event, p) for p in people]
    db.session.commit()

    assert [r.status for r in results] == ["registered", "waitlisted", "waitlisted"]
    assert [r.waitlist_position for r in results] == [None, 1, 2]
    assert services.waitlist_ranks(event.id) == {results[1].id: 1, results[2].id: 2}
    waitlisted = mails(template="event_waitlisted")
    assert len(waitlisted) == 2
    assert "place 1" in waitlisted[0].body_text and "place 2" in waitlisted[1].body_text


def test_a_cancellation_promotes_the_first_in_line_and_mails_them(req, factory) -> None:
    event = factories.event(capacity=1)
    first, second, third = (factories.alumnus(factory) for _ in range(3))
    holder = seats.register_alumnus(event, first[1])
    waiting = [seats.register_alumnus(event, p[1]) for p in (second, third)]
    db.session.commit()

    promoted = seats.cancel(holder, acting_as=ALUMNUS)
    db.session.commit()  # one transaction: the seat changed hands inside it

    assert [p.id for p in promoted] == [waiting[0].id]
    assert reg(holder.id).status == RegStatus.CANCELLED
    assert reg(waiting[0].id).status == RegStatus.REGISTERED
    assert reg(waiting[1].id).status == RegStatus.WAITLISTED
    assert services.waitlist_ranks(event.id) == {waiting[1].id: 1}
    assert db.session.get(Event, event.id, populate_existing=True).seats_taken == 1
    [mail] = mails(second[0].email, "event_promoted")
    assert mail.attachments[0].content_type == "text/calendar"
    assert mails(third[0].email, "event_promoted") == []


def test_the_promotion_is_undone_with_the_cancellation(req, factory) -> None:
    """Same transaction: if the cancellation does not commit, nobody was promoted."""
    event = factories.event(capacity=1)
    holder = seats.register_alumnus(event, factories.alumnus(factory)[1])
    waiting = seats.register_alumnus(event, factories.alumnus(factory)[1])
    db.session.commit()
    seats.cancel(holder, acting_as=ALUMNUS)
    db.session.rollback()
    assert reg(holder.id).status == RegStatus.REGISTERED
    assert reg(waiting.id).status == RegStatus.WAITLISTED
    assert mails(template="event_promoted") == []


def test_leaving_the_waitlist_keeps_the_others_in_order(req, factory) -> None:
    event = factories.event(capacity=1)
    regs = [seats.register_alumnus(event, factories.alumnus(factory)[1]) for _ in range(4)]
    db.session.commit()
    seats.cancel(regs[2], acting_as=ALUMNUS)  # second in line leaves
    db.session.commit()
    assert db.session.get(Event, event.id, populate_existing=True).seats_taken == 1
    assert services.waitlist_ranks(event.id) == {regs[1].id: 1, regs[3].id: 2}


def test_registering_again_after_cancelling_goes_to_the_end_of_the_line(req, factory) -> None:
    event = factories.event(capacity=1)
    holder = factories.alumnus(factory)[1]
    mine = seats.register_alumnus(event, holder)
    other = seats.register_alumnus(event, factories.alumnus(factory)[1])
    db.session.commit()
    old_code = mine.pass_code
    seats.cancel(mine, acting_as=ALUMNUS)
    db.session.commit()
    again = seats.register_alumnus(event, holder)
    db.session.commit()

    assert again.id == mine.id  # still one row for the person
    assert reg(other.id).status == RegStatus.REGISTERED  # the freed seat went to them
    assert reg(mine.id).status == RegStatus.WAITLISTED
    assert reg(mine.id).pass_code != old_code


def test_registering_twice_is_refused(req, factory) -> None:
    event = factories.event()
    record = factories.alumnus(factory)[1]
    seats.register_alumnus(event, record)
    db.session.commit()
    with pytest.raises(seats.AlreadyRegistered):
        seats.register_alumnus(event, record)
    db.session.rollback()
    assert db.session.get(Event, event.id, populate_existing=True).seats_taken == 1


def test_one_registration_per_person_is_a_database_constraint(app_ctx, factory) -> None:
    event = factories.event()
    record = factories.alumnus(factory)[1]
    factories.registration(event, record)
    db.session.add(Registration(event_id=event.id, alumnus_id=record.id, status="waitlisted",
                                pass_code=new_pass_code()))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()

    guest = factories.registration(event)
    db.session.add(Registration(event_id=event.id, guest_email=guest.guest_email,
                                source="guest", status="pending",
                                pass_code=new_pass_code()))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_seat_counter_cannot_pass_the_capacity(app_ctx) -> None:
    event = factories.event(capacity=2)
    with pytest.raises(IntegrityError):
        db.session.execute(update(Event).where(Event.id == event.id).values(seats_taken=3))
    db.session.rollback()


def test_eligibility_and_window_are_enforced(req, factory) -> None:
    thai = factories.alumnus(factory, country="TH", specialty="cardiology")[1]
    vietnamese = factories.alumnus(factory, country="VN", specialty="cardiology")[1]
    radiologist = factories.alumnus(factory, country="TH", specialty="radiology")[1]
    event = factories.event(eligible_countries=["TH"], eligible_specialties=["cardiology"])
    with pytest.raises(seats.NotEligible):
        seats.register_alumnus(event, vietnamese)
    with pytest.raises(seats.NotEligible):
        seats.register_alumnus(event, radiologist)
    assert seats.register_alumnus(event, thai).status == RegStatus.REGISTERED
    db.session.commit()

    later = factories.event(registration_opens_at=utcnow() + timedelta(days=1))
    closed = factories.event(registration_closes_at=utcnow() - timedelta(hours=1))
    draft = factories.event(status="draft")
    for event in (later, closed, draft, factories.past_event()):
        with pytest.raises(seats.Closed):
            seats.register_alumnus(event, thai)


def test_more_seats_go_to_the_waitlist_and_fewer_than_taken_is_refused(req, factory) -> None:
    event = factories.event(capacity=1)
    regs = [seats.register_alumnus(event, factories.alumnus(factory)[1]) for _ in range(3)]
    db.session.commit()
    assert seats.set_capacity(event, 2)
    db.session.commit()
    assert reg(regs[1].id).status == RegStatus.REGISTERED
    assert reg(regs[2].id).status == RegStatus.WAITLISTED
    assert not seats.set_capacity(event, 1)
    db.session.rollback()
    assert db.session.get(Event, event.id, populate_existing=True).capacity == 2


def test_cancelling_the_event_tells_everyone_registered_or_waiting(req, factory) -> None:
    event = factories.event(capacity=1)
    people = [factories.alumnus(factory) for _ in range(2)]
    for _user, record in people:
        seats.register_alumnus(event, record)
    db.session.commit()
    assert services.cancel_event(db.session.get(Event, event.id), factory.staff()) == 2
    db.session.commit()
    assert {m.to_addr for m in mails(template="event_cancelled")} == {
        u.email for u, _ in people}
    with pytest.raises(seats.Closed):
        seats.register_alumnus(event, factories.alumnus(factory)[1])


def test_merging_records_moves_registrations(req, factory) -> None:
    event, other_event = factories.event(capacity=1), factories.event()
    _, old = factories.alumnus(factory)
    _, new = factories.alumnus(factory)
    waiting_other = factories.alumnus(factory)[1]
    kept = seats.register_alumnus(event, old)  # the seat is on the old record
    duplicate = seats.register_alumnus(event, new)  # the new record is only in line
    behind = seats.register_alumnus(event, waiting_other)
    moved = seats.register_alumnus(other_event, old)
    db.session.commit()

    for hook in MERGE_HOOKS:
        hook(old.id, new.id)
    db.session.commit()

    assert reg(kept.id).alumnus_id == new.id and reg(kept.id).status == "registered"
    assert reg(moved.id).alumnus_id == new.id
    # The weaker duplicate stays with the merged record, cancelled; the line moves up.
    assert reg(duplicate.id).alumnus_id == old.id
    assert reg(duplicate.id).status == RegStatus.CANCELLED
    assert services.waitlist_ranks(event.id) == {behind.id: 1}
