"""Who may see and do what with events. Routes answer 404 for events a person may not know.

Events are few (tens a year), so the alumni list loads the published, upcoming ones and
applies `may_view` to each; detail pages, downloads and fragments use the same predicate.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from portal.accounts.models import Role
from portal.alumni.models import Alumnus
from portal.alumni.services import alumnus_for_user
from portal.events.models import Event, EventStatus, Registration, RegStatus
from portal.extensions import db

SEAT_STATUSES = (RegStatus.REGISTERED,)
ACTIVE_STATUSES = (RegStatus.PENDING, RegStatus.REGISTERED, RegStatus.WAITLISTED)


def is_staff(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.has_role(Role.STAFF))


def alumnus_of(user: Any) -> Alumnus | None:
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


def may_view(user: Any, event: Event, alumnus: Alumnus | None,
             registration: Registration | None) -> bool:
    if is_staff(user):
        return True
    if event.status == EventStatus.DRAFT:
        return False
    if registration is not None:
        return True
    return event.status == EventStatus.PUBLISHED and eligible(event, alumnus)


def published_upcoming() -> Select[tuple[Event]]:
    """Published events that have not ended, soonest first (the alumni list's input)."""
    from portal.db import utcnow

    return (select(Event).where(Event.status == EventStatus.PUBLISHED,
                                Event.ends_at > utcnow())
            .order_by(Event.starts_at))


def sees_online_link(user: Any, registration: Registration | None) -> bool:
    """The link is for people holding a seat (or who attended), and for staff."""
    if is_staff(user):
        return True
    return registration is not None and (
        registration.status == RegStatus.REGISTERED or registration.attended)


def sees_materials(user: Any, registration: Registration | None) -> bool:
    return sees_online_link(user, registration)


def has_certificate(event: Event, registration: Registration | None) -> bool:
    return registration is not None and registration.attended and event.is_over()


def may_give_feedback(event: Event, registration: Registration | None) -> bool:
    return has_certificate(event, registration)


def may_cancel(event: Event, registration: Registration | None) -> bool:
    from portal.db import utcnow

    return (registration is not None and registration.status in ACTIVE_STATUSES
            and not registration.attended and utcnow() < event.starts_at)
