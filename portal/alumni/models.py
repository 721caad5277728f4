"""Former trainees since 1983, whether or not they have an account yet."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.db import UTCDateTime, utcnow
from portal.extensions import Model


def name_key(value: str | None) -> str:
    """A family name as matching sees it: case, spacing and Unicode form do not count."""
    return " ".join(unicodedata.normalize("NFC", value or "").casefold().split())


class Alumnus(Model):
    __tablename__ = "alumni"
    __table_args__ = (
        # Import matching: family name (normalized) + birth date + cycle year.
        Index("ix_alumni_match", "name_key", "date_of_birth", "cycle_year"),
        Index("ix_alumni_country_specialty", "country", "specialty"),
        Index("ix_alumni_directory", "directory_visible", "merged_into_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The account, once the person claimed it (one record per account).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    family_name: Mapped[str] = mapped_column(String(120))
    # Kept in step with family_name by the validator below; matching queries this column.
    name_key: Mapped[str] = mapped_column(String(120), default="")
    given_names: Mapped[str] = mapped_column(String(120), default="")
    native_name: Mapped[str] = mapped_column(String(200), default="")
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(254), index=True)  # stored lower-case
    # The training: year of the cycle and specialty (a code such as "cardiology").
    cycle_year: Mapped[int | None] = mapped_column(Integer)
    specialty: Mapped[str] = mapped_column(String(60), default="")
    # Where they came from then, where they are now.
    country: Mapped[str] = mapped_column(String(2), default="")  # ISO code, current country
    institution_then: Mapped[str] = mapped_column(String(200), default="")
    institution_now: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    timezone: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    # What the alumnus asked to change on their profile, waiting for staff: country and
    # specialty decide which events they may join, so they change when staff confirm.
    requested_country: Mapped[str | None] = mapped_column(String(2))
    requested_specialty: Mapped[str | None] = mapped_column(String(60))
    change_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    contact_by_email: Mapped[bool] = mapped_column(Boolean, default=True)
    # Shown in the alumni directory only when the person opts in; the e-mail address
    # only with a second, separate opt-in.
    directory_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    directory_show_email: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Set when this record was merged into another (kept for its history).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("alumni.id"), index=True)
    source: Mapped[str] = mapped_column(String(40), default="manual")  # import, cycle, manual
    # Unique: creating alumni from a cycle twice must not create a second record.
    nomination_id: Mapped[int | None] = mapped_column(ForeignKey("nominations.id"), unique=True)
    # Last invitation to claim an account; guards "never twice within a few days".
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user = relationship("User", lazy="raise")

    @validates("family_name")
    def _set_name_key(self, _key: str, value: str) -> str:
        value = " ".join((value or "").split())
        self.name_key = name_key(value)
        return value

    @validates("email")
    def _normalize_email(self, _key: str, value: str | None) -> str | None:
        value = (value or "").strip().lower()
        return value or None

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.given_names, self.family_name) if p)

    @property
    def specialty_label(self) -> str:
        return self.specialty.replace("_", " ").capitalize()

    @property
    def requested_changes(self) -> dict[str, str]:
        """{field: value asked for} of the changes waiting for staff."""
        asked = {"country": self.requested_country, "specialty": self.requested_specialty}
        return {field: value for field, value in asked.items() if value}


class InvitationStatus:
    PENDING = "pending"  # waits for its minute (throttle)
    SENDING = "sending"  # claimed by one sender
    SENT = "sent"
    SKIPPED = "skipped"  # invited recently, already claimed, no address...
    FAILED = "failed"  # the account could not be created (reason in `error`)
    # An account with the record's address exists and is not linked to it: giving it the
    # record (and the alumnus role) waits for staff to confirm it is the same person.
    HELD = "held"


class AlumniInvitation(Model):
    """One invitation to claim an account, queued by a bulk action and sent throttled."""

    __tablename__ = "alumni_invitations"
    __table_args__ = (Index("ix_alumni_invitations_due", "status", "not_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alumnus_id: Mapped[int] = mapped_column(
        ForeignKey("alumni.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), index=True)
    status: Mapped[str] = mapped_column(String(10), default=InvitationStatus.PENDING)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    error: Mapped[str] = mapped_column(Text, default="")

    alumnus: Mapped[Alumnus] = relationship(lazy="raise")
