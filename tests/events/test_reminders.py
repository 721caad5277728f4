"""Mail by the clock: a reminder two days before, the certificate and survey after."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.db import utcnow
from portal.events.models import Certificate, Event
from portal.events.reminders import send_due
from portal.extensions import db
from tests.events import factories
from tests.events.helpers import mails


def test_reminders_go_once_to_seat_holders_two_days_before(app_ctx, factory) -> None:
    tomorrow = utcnow() + timedelta(days=1)
    soon = factories.event(title="Tomorrow's lecture", starts_at=tomorrow,
                           ends_at=tomorrow + timedelta(hours=2), capacity=1)
    later = factories.event(title="Next week")
    holder_user, holder = factories.alumnus(factory)
    waiting_user, waiting = factories.alumnus(factory)
    factories.registration(soon, holder)
    factories.registration(soon, waiting, status="waitlisted", waitlist_position=1,
                           registered_at=None)
    factories.registration(later, holder)

    assert send_due() == 1
    [mail] = mails(template="event_reminder")
    assert mail.to_addr == holder_user.email and "Tomorrow's lecture" in mail.subject
    assert mail.attachments[0].content_type == "text/calendar"
    assert send_due() == 0  # once
    assert mails(waiting_user.email) == []


def test_after_the_event_attendees_get_their_certificate_once(app_ctx, factory) -> None:
    event = factories.past_event(title="Yesterday's demonstration")
    came_user, came = factories.alumnus(factory)
    missed_user, missed = factories.alumnus(factory)
    factories.registration(event, came, checked_in_at=event.starts_at)
    factories.registration(event, missed)

    assert send_due() == 1
    [mail] = mails(template="event_follow_up")
    assert mail.to_addr == came_user.email
    assert f"/events/{event.id}" in mail.body_text
    assert len(db.session.scalars(select(Certificate)).all()) == 1
    assert send_due() == 0
    assert mails(missed_user.email) == []


def test_the_send_reminders_command_covers_events(app_ctx, factory) -> None:
    tomorrow = utcnow() + timedelta(days=1)
    event = factories.event(starts_at=tomorrow, ends_at=tomorrow + timedelta(hours=1))
    factories.registration(event, factories.alumnus(factory)[1])
    result = app_ctx.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "event-reminders: 1" in result.output
    assert db.session.get(Event, event.id) is not None
