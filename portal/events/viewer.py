"""Who looks at an event's pages, and what they see there.

Two kinds of people have a page for an event: an alumnus, through their account (with
their registration, if any), and a guest, through the personal link of their registration
(no account; the link's key is the credential). One set of views (routes.py) and one
template (events/show.html) serve both; a `Viewer` says who it is, which links are theirs
(links.py) and what they may see and do, derived from policy.py and the lifecycle table.
The alumni lists (events page, dashboard section) live here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.alumni.models import Alumnus
from portal.db import utcnow
from portal.events import certificates, links, policy, services
from portal.events.codes import key_matches, pass_qr
from portal.events.errors import AlreadyAnswered, NotAvailable
from portal.events.lifecycle import LIVE_STATES, NEW, REGISTRATION, WAITLIST_STATES
from portal.events.models import (
    Certificate,
    Event,
    EventMaterial,
    EventStatus,
    Feedback,
    Registration,
)
from portal.events.queries import waitlist_rank
from portal.extensions import db
from portal.lifecycle import ALUMNUS, GUEST


@dataclass(frozen=True)
class Viewer:
    """An alumnus (`user`, `alumnus`) or a guest (`key` of their personal link) looking
    at `event`, with their registration (a guest always has one)."""

    event: Event
    registration: Registration | None
    acting_as: str  # the lifecycle actor: ALUMNUS or GUEST
    user: User | None = None
    alumnus: Alumnus | None = None
    key: str = ""
    language: str = "en"  # of the certificate

    @property
    def is_guest(self) -> bool:
        return self.acting_as == GUEST

    def url(self, action: str, **values: Any) -> str | None:
        """This viewer's link for `action` (links.py), or None if they have no such page."""
        if self.is_guest and self.registration is not None:
            return links.guest_url(action, self.registration, self.key, **values)
        return links.alumnus_url(action, self.event.id, **values)

    def has_page(self, action: str) -> bool:
        endpoints = links.GUEST_ENDPOINTS if self.is_guest else links.ALUMNUS_ENDPOINTS
        return action in endpoints

    @property
    def page_url(self) -> str:
        return self.url("page") or "/"

    @property
    def name(self) -> str:
        if self.alumnus is not None:
            return str(self.alumnus.display_name)
        return (self.registration.guest_name or "") if self.registration else ""

    @property
    def state(self) -> str:
        return self.registration.status if self.registration is not None else NEW

    @property
    def audit_as(self) -> str:
        """How the person was let in, for the audit row of a download."""
        if self.is_guest and self.registration is not None:
            return f"guest:{self.registration.id}"
        return "registrant"

    # -- what they hold, see and may do -------------------------------------------------

    @property
    def live(self) -> bool:
        """A registration that is not cancelled."""
        return self.state in LIVE_STATES

    @property
    def holds_seat(self) -> bool:
        return self.registration is not None and self.registration.holds_seat

    @property
    def waitlisted(self) -> bool:
        return self.state in WAITLIST_STATES

    @property
    def eligible(self) -> bool:
        if self.is_guest:
            return self.event.guests_allowed
        return policy.eligible(self.event, self.alumnus)

    @property
    def may_register(self) -> bool:
        """Alumni register here; a guest whose registration was cancelled asks again
        through the event's guest form."""
        if self.is_guest:
            return (self.event.guests_allowed and self.event.registration_open()
                    and REGISTRATION.may(self.state, "request", [GUEST]))
        return self.eligible and policy.may_register(self.event, self.registration, ALUMNUS)

    @property
    def registration_opens_later(self) -> bool:
        return self.eligible and self.event.registration_opens_later()

    @property
    def may_cancel(self) -> bool:
        return policy.may_cancel(self.event, self.registration, self.acting_as)

    @property
    def sees_online_link(self) -> bool:
        return policy.sees_online_link(self.registration, self.acting_as)

    @property
    def sees_materials(self) -> bool:
        return policy.sees_materials(self.registration, self.acting_as)

    @property
    def has_certificate(self) -> bool:
        return policy.has_certificate(self.event, self.registration)

    @property
    def may_give_feedback(self) -> bool:
        return policy.may_give_feedback(self.event, self.registration)


def for_alumnus(event_id: int, user: User, *, language: str = "en") -> Viewer | None:
    """The alumnus behind `user` on an event's page; None for an event they may not know."""
    event = db.session.get(Event, event_id)
    if event is None:
        return None
    alumnus = policy.alumnus_of(user)
    reg = policy.registration_of(event_id, alumnus)
    if not policy.may_view(user, event, alumnus, reg):
        return None
    return Viewer(event, reg, ALUMNUS, user=user, alumnus=alumnus, language=language)


def for_guest(registration_id: int, key: str) -> Viewer | None:
    """The guest holding the personal link (registration, key); None for a wrong key."""
    reg = db.session.scalars(
        select(Registration).options(joinedload(Registration.event))
        .where(Registration.id == registration_id,
               Registration.guest_salt.is_not(None))).first()
    if reg is None or not key_matches(reg, key) or not policy.guest_may_view(reg.event):
        return None
    return Viewer(reg.event, reg, GUEST, key=key, language=reg.guest_language or "en")


# --- the event page -------------------------------------------------------------------------

@dataclass(frozen=True)
class EventPage:
    """What the event page shows beyond the viewer and the event (loaded here: templates
    never query)."""

    materials: list[EventMaterial] = field(default_factory=list)
    rank: int | None = None  # place in line, when waitlisted
    feedback: Feedback | None = None
    qr: str | None = None  # the pass, on the page of a seat holder without a pass page


def event_page(viewer: Viewer) -> EventPage:
    reg = viewer.registration
    return EventPage(
        materials=services.materials_of(viewer.event.id) if viewer.sees_materials else [],
        rank=waitlist_rank(reg) if reg is not None and viewer.waitlisted else None,
        feedback=feedback_of(reg.id) if reg is not None and reg.attended else None,
        qr=pass_qr(reg.pass_code) if reg is not None and viewer.holds_seat
        and not viewer.has_page("pass") else None)


def material_for(viewer: Viewer, material_id: int) -> EventMaterial | None:
    """A material this viewer may download, or None."""
    if not viewer.sees_materials:
        return None
    return services.material_of(viewer.event.id, material_id)


# --- certificates and feedback ------------------------------------------------------------

def _with_people(registration_id: int) -> Registration:
    return db.session.scalars(
        select(Registration)
        .options(joinedload(Registration.alumnus), joinedload(Registration.certificate))
        .where(Registration.id == registration_id)
        .execution_options(populate_existing=True)).one()


def prepare_certificate(viewer: Viewer) -> Certificate:
    """Issue the viewer's certificate once (NotAvailable: none for them)."""
    if viewer.registration is None or not viewer.has_certificate:
        raise NotAvailable()
    return certificates.issue(_with_people(viewer.registration.id), viewer.event)


def certificate_of(viewer: Viewer) -> Certificate | None:
    """The viewer's issued certificate, None before it is prepared."""
    if viewer.registration is None or not viewer.has_certificate:
        raise NotAvailable()
    return db.session.scalars(select(Certificate).where(
        Certificate.registration_id == viewer.registration.id)).first()


def feedback_of(registration_id: int) -> Feedback | None:
    return db.session.scalars(select(Feedback).where(
        Feedback.registration_id == registration_id)).first()


def give_feedback(viewer: Viewer, rating: int, comment: str) -> None:
    """Once per attendee (AlreadyAnswered the second time)."""
    reg = viewer.registration
    if reg is None or not viewer.may_give_feedback:
        raise NotAvailable()
    if feedback_of(reg.id) is not None:
        raise AlreadyAnswered()
    try:  # two tabs at once: the UNIQUE registration decides
        with db.session.begin_nested():
            db.session.add(Feedback(registration_id=reg.id, event_id=reg.event_id,
                                    rating=rating, comment=comment.strip()))
    except IntegrityError as exc:
        raise AlreadyAnswered() from exc


# --- the alumni lists -----------------------------------------------------------------------

def my_registrations(alumnus: Alumnus | None, *,
                     upcoming_only: bool = False) -> list[Registration]:
    if alumnus is None:
        return []
    query = (select(Registration).options(joinedload(Registration.event))
             .join(Event, Event.id == Registration.event_id)
             .where(Registration.alumnus_id == alumnus.id,
                    Registration.status.in_(LIVE_STATES),
                    Event.status != EventStatus.DRAFT)
             .order_by(Event.starts_at.desc()))
    if upcoming_only:
        query = query.where(Event.ends_at > utcnow())
    return list(db.session.scalars(query))


def events_for(alumnus: Alumnus | None) -> list[Event]:
    """Upcoming events this person may see: their own country first, then by date."""
    events = db.session.scalars(policy.published_upcoming()).all()
    mine = {r.event_id for r in my_registrations(alumnus, upcoming_only=True)}
    visible = [e for e in events if e.id in mine or policy.eligible(e, alumnus)]
    country = (alumnus.country if alumnus else "") or ""
    return sorted(visible, key=lambda e: (e.country != country, e.starts_at))


def events_page(user: User) -> dict[str, Any]:
    """The alumni events page: upcoming events open to them, their registrations, and
    their past events."""
    alumnus = policy.alumnus_of(user)
    mine = {r.event_id: r for r in my_registrations(alumnus)}
    return {"alumnus": alumnus, "events": events_for(alumnus), "mine": mine,
            "past": [r for r in mine.values() if r.event.is_over()]}


def dashboard_for(user: User) -> dict[str, Any]:
    alumnus = policy.alumnus_of(user)
    registrations = my_registrations(alumnus, upcoming_only=True)
    registered = {r.event_id for r in registrations}
    eligible = [e for e in events_for(alumnus) if e.id not in registered]
    return {"alumnus": alumnus, "registrations": registrations, "eligible": eligible[:5]}
