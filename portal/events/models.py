"""Follow-up events, registrations (seats, waitlist, attendance), certificates, feedback.

Seats are counted in `events.seats_taken` and changed only by conditional UPDATEs under the
event row lock (see registration.py); CHECK constraints keep the counter inside 0..capacity
and UNIQUE constraints keep one registration per person and one holder per waitlist place.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.alumni.models import Alumnus
from portal.db import UTCDateTime, utcnow
from portal.events.lifecycle import SEAT_STATES
from portal.events.lifecycle import RegStatus as RegStatus  # the states live with their table
from portal.extensions import Model
from portal.storage.models import Blob


class EventKind(enum.StrEnum):
    LECTURE = "lecture"
    DEMONSTRATION = "demonstration"
    SEMINAR = "seminar"
    EXPERT_DISPATCH = "expert_dispatch"


class EventMode(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"


class EventStatus(enum.StrEnum):
    DRAFT = "draft"  # staff only
    PUBLISHED = "published"  # visible to eligible alumni (and guests, if allowed)
    CANCELLED = "cancelled"  # registrants were told; nobody can register


class RegSource(enum.StrEnum):
    ALUMNUS = "alumnus"
    GUEST = "guest"
    WALK_IN = "walk_in"


class Event(Model):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_positive"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_in_capacity"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_events_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default=EventKind.LECTURE)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    speakers: Mapped[str] = mapped_column(Text, default="")
    # The venue; times are entered and shown in its zone, stored in UTC.
    city: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    venue_timezone: Mapped[str] = mapped_column(String(64), default="Asia/Tokyo")
    mode: Mapped[str] = mapped_column(String(12), default=EventMode.IN_PERSON)
    online_link: Mapped[str] = mapped_column(String(500), default="")  # registered people only
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    # Last waitlist place handed out; only grows, so places are never reused.
    waitlist_last: Mapped[int] = mapped_column(Integer, default=0)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Eligibility: empty lists mean "any".
    eligible_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    eligible_specialties: Mapped[list[str]] = mapped_column(JSON, default=list)
    guests_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    cpd_hours: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default=EventStatus.DRAFT)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    materials: Mapped[list[EventMaterial]] = relationship(
        back_populates="event", cascade="all, delete-orphan", lazy="raise",
        order_by="EventMaterial.id")

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.seats_taken)

    @property
    def has_online_part(self) -> bool:
        return self.mode in (EventMode.ONLINE, EventMode.HYBRID)

    @property
    def has_venue(self) -> bool:
        return self.mode in (EventMode.IN_PERSON, EventMode.HYBRID)

    def registration_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        if self.status != EventStatus.PUBLISHED or now >= self.starts_at:
            return False
        if self.registration_opens_at and now < self.registration_opens_at:
            return False
        return not (self.registration_closes_at and now >= self.registration_closes_at)

    def registration_opens_later(self, now: datetime | None = None) -> bool:
        return (self.status == EventStatus.PUBLISHED and self.registration_opens_at is not None
                and (now or utcnow()) < self.registration_opens_at)

    def is_over(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.ends_at

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title!r}>"


class Registration(Model):
    __tablename__ = "event_registrations"
    __table_args__ = (
        # One registration per person per event: an alumnus record, or a guest's e-mail.
        UniqueConstraint("event_id", "alumnus_id", name="uq_event_registrations_alumnus"),
        UniqueConstraint("event_id", "guest_email", name="uq_event_registrations_guest"),
        # One holder per waitlist place.
        UniqueConstraint("event_id", "waitlist_position", name="uq_event_registrations_place"),
        Index("ix_event_registrations_event_status", "event_id", "status"),
    )

    # Autoincrement: with the event row locked while a registration is written, the id
    # order is the order in which the database accepted the registrations.
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    alumnus_id: Mapped[int | None] = mapped_column(
        ForeignKey("alumni.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(10), default=RegSource.ALUMNUS)
    # Guests and walk-ins (no alumni record): what they typed.
    guest_name: Mapped[str | None] = mapped_column(String(200))
    guest_email: Mapped[str | None] = mapped_column(String(254))
    guest_institution: Mapped[str | None] = mapped_column(String(200))
    guest_language: Mapped[str | None] = mapped_column(String(8))
    # Salt of a guest's personal link (pass, cancel, certificate): the link carries an HMAC
    # of (id, salt) with the app's secret, so it can be mailed again without storing it;
    # a new salt revokes every earlier link.
    guest_salt: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12))
    waitlist_position: Mapped[int | None] = mapped_column(Integer)
    # Printed on the pass as a QR code and typed at the door; unguessable.
    pass_code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship(lazy="raise")
    alumnus: Mapped[Alumnus | None] = relationship("Alumnus", lazy="raise")
    checked_in_by: Mapped[User | None] = relationship("User", lazy="raise",
                                                      foreign_keys=[checked_in_by_id])
    certificate: Mapped[Certificate | None] = relationship(
        back_populates="registration", lazy="raise", uselist=False)
    feedback: Mapped[Feedback | None] = relationship(
        back_populates="registration", lazy="raise", uselist=False)

    @property
    def attended(self) -> bool:
        return self.checked_in_at is not None

    @property
    def holds_seat(self) -> bool:
        return self.status in SEAT_STATES

    @property
    def walked_in(self) -> bool:
        return self.status == RegStatus.WALK_IN

    def person_name(self) -> str:
        """Needs `alumnus` loaded for alumni rows."""
        if self.alumnus_id is not None and self.alumnus is not None:
            return str(self.alumnus.display_name)
        return self.guest_name or ""

    def __repr__(self) -> str:
        return f"<Registration {self.id} event={self.event_id} {self.status}>"


class EventMaterial(Model):
    __tablename__ = "event_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    blob_id: Mapped[int] = mapped_column(ForeignKey("blobs.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    event: Mapped[Event] = relationship(back_populates="materials", lazy="raise")
    blob: Mapped[Blob] = relationship("Blob", lazy="raise")


class Certificate(Model):
    """What was printed, frozen at issue, so the public check shows exactly that."""

    __tablename__ = "event_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("event_registrations.id", ondelete="CASCADE"), unique=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # in the verification URL
    name: Mapped[str] = mapped_column(String(200))
    native_name: Mapped[str] = mapped_column(String(200), default="")
    event_title: Mapped[str] = mapped_column(String(200))
    event_date: Mapped[str] = mapped_column(String(40))  # ISO date(s) in the venue's zone
    cpd_hours: Mapped[float | None] = mapped_column(Float)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="certificate",
                                                      lazy="raise")


class Feedback(Model):
    __tablename__ = "event_feedback"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Once per attendee: the registration is unique here.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("event_registrations.id", ondelete="CASCADE"), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="feedback", lazy="raise")

