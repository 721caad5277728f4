"""Former trainees since 1983, whether or not they have an account yet."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, utcnow
from portal.extensions import db


class Alumnus(db.Model):
    __tablename__ = "alumni"
    __table_args__ = (
        Index("ix_alumni_match", "family_name", "date_of_birth", "cycle_year"),
        Index("ix_alumni_country_specialty", "country", "specialty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The account, once the person claimed it (one record per account).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    family_name: Mapped[str] = mapped_column(String(120))
    given_names: Mapped[str] = mapped_column(String(120), default="")
    native_name: Mapped[str] = mapped_column(String(200), default="")
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
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
    contact_by_email: Mapped[bool] = mapped_column(Boolean, default=True)
    # Shown in the alumni directory only when the person opts in.
    directory_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Set when this record was merged into another (kept for its history).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("alumni.id"))
    source: Mapped[str] = mapped_column(String(40), default="manual")  # import, cycle, manual
    nomination_id: Mapped[int | None] = mapped_column(ForeignKey("nominations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user = relationship("User", lazy="raise")

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.given_names, self.family_name) if p)
