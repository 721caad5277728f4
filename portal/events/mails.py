"""Mail to registrants, each in the recipient's language with times in the venue's zone and
in their own. Queued in the outbox inside the current transaction (sent after commit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import LoaderOption

from portal.alumni.models import Alumnus
from portal.events.calendar import ics_for
from portal.events.lifecycle import SEAT_STATES, WAITLIST_STATES
from portal.events.links import personal_link
from portal.events.models import Event, Registration
from portal.events.queries import waitlist_rank
from portal.extensions import db
from portal.notify.services import Attachment, queue_mail
from portal.web import external_url


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    language: str
    timezone: str | None


def recipient(registration: Registration) -> Recipient | None:
    """Where a registrant's mail goes: the account's address, else the alumni record's, or
    the guest's. Needs alumnus and alumnus.user loaded."""
    if registration.alumnus_id is not None and registration.alumnus is not None:
        alumnus: Alumnus = registration.alumnus
        user = alumnus.user
        email = user.email if user is not None else alumnus.email
        if not email:
            return None
        language = (user.language if user is not None else None) or alumnus.language or "en"
        zone = (user.timezone if user is not None else None) or alumnus.timezone
        return Recipient(email, alumnus.display_name, language, zone)
    if not registration.guest_email:
        return None
    return Recipient(registration.guest_email, registration.guest_name or "",
                     registration.guest_language or "en", None)


def with_people() -> tuple[LoaderOption, ...]:
    """Loader options for mailing a registration (event, alumnus, account)."""
    return (joinedload(Registration.event),
            joinedload(Registration.alumnus).joinedload(Alumnus.user))


def load(registration_id: int) -> Registration:
    return db.session.scalars(select(Registration).options(*with_people())
                              .where(Registration.id == registration_id)
                              .execution_options(populate_existing=True)).one()


def calendar_attachment(registration: Registration) -> Attachment:
    event = registration.event
    link = event.online_link if (event.has_online_part
                                 and registration.status in SEAT_STATES) else ""
    data = ics_for(event, url=personal_link(registration), online_link=link)
    return Attachment("event.ics", "text/calendar", data)


def _send(registration: Registration, template: str, subject: str, *,
          ics: bool = False, **context: Any) -> bool:
    to = recipient(registration)
    if to is None:
        return False
    event: Event = registration.event
    queue_mail(to.email, template, subject=subject, language=to.language,
               attachments=[calendar_attachment(registration)] if ics else None,
               name=to.name, event=event, registration=registration,
               own_zone=to.timezone if to.timezone != event.venue_timezone else None,
               link=personal_link(registration), **context)
    return True


def registered(registration_id: int) -> None:
    """After registering or confirming: a seat (with the calendar file) or a waitlist place."""
    registration = load(registration_id)
    title = registration.event.title
    if registration.status in SEAT_STATES:
        _send(registration, "event_confirmation", _l("Registered: %(title)s", title=title),
              ics=True)
    elif registration.status in WAITLIST_STATES:
        place = waitlist_rank(registration)
        _send(registration, "event_waitlisted", _l("On the waitlist: %(title)s", title=title),
              place=place)


def promoted(registration_id: int) -> None:
    registration = load(registration_id)
    _send(registration, "event_promoted",
          _l("A seat is yours: %(title)s", title=registration.event.title), ics=True)


def guest_confirm(registration_id: int, secret: str) -> None:
    registration = load(registration_id)
    _send(registration, "event_guest_confirm",
          _l("Please confirm your registration: %(title)s", title=registration.event.title),
          confirm_link=external_url("events.guest_confirm", token=secret))


def guest_link(registration_id: int) -> None:
    registration = load(registration_id)
    _send(registration, "event_guest_link",
          _l("Your registration: %(title)s", title=registration.event.title))


def reminder(registration: Registration) -> bool:
    return _send(registration, "event_reminder",
                 _l("Reminder: %(title)s", title=registration.event.title), ics=True)


def follow_up(registration: Registration) -> bool:
    return _send(registration, "event_follow_up",
                 _l("Your certificate: %(title)s", title=registration.event.title))


def event_cancelled(registration: Registration) -> bool:
    return _send(registration, "event_cancelled",
                 _l("Cancelled: %(title)s", title=registration.event.title))


def staff_message(registration: Registration, subject: str, body: str) -> bool:
    return _send(registration, "event_message", subject, body=body)

