"""Who may see and do what with events. Routes answer 404 for events a person may not know.

Events are few (tens a year), so the alumni list loads the published, upcoming ones and
applies `eligible` to each; detail pages, downloads and fragments use `may_view`. What a
registration lets its holder see and do is derived from the lifecycle table
(portal/events/lifecycle.py): the predicates below take the lifecycle actor the person
acts as on it (ALUMNUS, GUEST, STAFF).
"""

from __future__ import annotations

from sqlalchemy import Select, select

from portal.accounts.models import Role, User
from portal.alumni.models import Alumnus
from portal.alumni.services import alumnus_for_user
from portal.db import utcnow
from portal.events.lifecycle import CANCEL_ANY_TIME, NEW, REGISTRATION, SEAT_STATES
from portal.events.models import Event, EventStatus, Registration
from portal.extensions import db
from portal.lifecycle import STAFF


def is_staff(user: User | None) -> bool:
    return bool(user and user.is_authenticated and user.has_role(Role.STAFF))


def alumnus_of(user: User | None) -> Alumnus | None:
    """The alumni record behind an account (the surviving one after a merge)."""
    return alumnus_for_user(user)


def eligible(event: Event, alumnus: Alumnus | None) -> bool:
    """Country and specialty rules of the event (an empty list admits everyone)."""
    if alumnus is None:
        return False
    if event.eligible_countries and (alumnus.country or "").upper() not in {
            c.upper() for c in event.eligible_countries}:
        return False
    return not (event.eligible_specialties and (alumnus.specialty or "").lower() not in {
        s.lower() for s in event.eligible_specialties})


def registration_of(event_id: int, alumnus: Alumnus | None) -> Registration | None:
    if alumnus is None:
        return None
    return db.session.scalars(select(Registration).where(
        Registration.event_id == event_id, Registration.alumnus_id == alumnus.id)).first()


def may_view(user: User | None, event: Event, alumnus: Alumnus | None,
             registration: Registration | None) -> bool:
    if is_staff(user):
        return True
    if event.status == EventStatus.DRAFT:
        return False
    if registration is not None:
        return True
    return event.status == EventStatus.PUBLISHED and eligible(event, alumnus)


def guest_may_view(event: Event) -> bool:
    """A guest's personal page stays reachable unless the event went back to a draft."""
    return event.status != EventStatus.DRAFT


def guest_form_open(event: Event) -> bool:
    """The guest registration page exists for published (or cancelled) events that take
    guests."""
    return event.guests_allowed and event.status != EventStatus.DRAFT


def published_upcoming() -> Select[tuple[Event]]:
    """Published events that have not ended, soonest first (the alumni list's input)."""
    return (select(Event).where(Event.status == EventStatus.PUBLISHED,
                                Event.ends_at > utcnow())
            .order_by(Event.starts_at))


def sees_online_link(registration: Registration | None, acting_as: str) -> bool:
    """The link is for people holding a seat (or who attended), and for staff."""
    if acting_as == STAFF:
        return True
    return registration is not None and (
        registration.status in SEAT_STATES or registration.attended)


def sees_materials(registration: Registration | None, acting_as: str) -> bool:
    return sees_online_link(registration, acting_as)


def has_certificate(event: Event, registration: Registration | None) -> bool:
    return registration is not None and registration.attended and event.is_over()


def may_give_feedback(event: Event, registration: Registration | None) -> bool:
    return has_certificate(event, registration)


def may_register(event: Event, registration: Registration | None, acting_as: str) -> bool:
    """The table allows registering from where this person stands, and the window is open
    (eligibility is the caller's: it depends on who the person is)."""
    state = registration.status if registration is not None else NEW
    return event.registration_open() and REGISTRATION.may(state, "register", [acting_as])


def may_cancel(event: Event, registration: Registration | None, acting_as: str) -> bool:
    if registration is None or registration.attended:
        return False
    if not REGISTRATION.may(registration.status, "cancel", [acting_as]):
        return False
    return acting_as in CANCEL_ANY_TIME or utcnow() < event.starts_at
