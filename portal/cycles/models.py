"""A cycle: one fiscal year's call for nominations, its rules and required documents."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, utcnow
from portal.extensions import Model


def program_timezone() -> str:
    """The program's own zone (Japan time): shown beside every deadline, and the zone a new
    cycle's window is entered in unless staff choose another (PROGRAM_TIMEZONE)."""
    return str(current_app.config["PROGRAM_TIMEZONE"])


class CycleStatus(enum.StrEnum):
    DRAFT = "draft"  # staff prepare it; institutions do not see it
    PUBLISHED = "published"  # visible; nominations accepted inside the window
    CLOSED = "closed"  # archived


class Cycle(Model):
    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)  # e.g. FY2027
    status: Mapped[str] = mapped_column(String(12), default=CycleStatus.DRAFT, index=True)
    # Window in UTC; `window_timezone` is the zone staff entered it in (shown with it).
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_timezone: Mapped[str] = mapped_column(String(64), default=program_timezone)
    training_starts_on: Mapped[date] = mapped_column(Date)
    training_ends_on: Mapped[date] = mapped_column(Date)
    retention_days: Mapped[int] = mapped_column(Integer, default=365)  # sensitive documents
    # Acceptance quotas (decided in selection) and submission limits (checked at submit).
    seats_total: Mapped[int | None] = mapped_column(Integer)
    seats_per_country: Mapped[int | None] = mapped_column(Integer)
    seats_per_institution: Mapped[int | None] = mapped_column(Integer)
    max_submissions_per_institution: Mapped[int | None] = mapped_column(Integer)
    max_submissions_per_country: Mapped[int | None] = mapped_column(Integer)
    # Eligibility rules.
    min_experience_years: Mapped[int | None] = mapped_column(Integer)
    max_experience_years: Mapped[int | None] = mapped_column(Integer)
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    english_evidence_required: Mapped[bool] = mapped_column(Boolean, default=True)
    # "allowed", "lower_priority" (warn, do not block) or "not_allowed".
    prior_participation: Mapped[str] = mapped_column(String(20), default="lower_priority")
    endorsement_required: Mapped[bool] = mapped_column(Boolean, default=True)
    consent_text: Mapped[str] = mapped_column(Text, default="")
    reminders_sent: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id"))

    specialties: Mapped[list[Specialty]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan",
        order_by=lambda: (Specialty.position, Specialty.id),
        lazy="selectin",
    )
    requirements: Mapped[list[DocumentRequirement]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan",
        order_by=lambda: (DocumentRequirement.position, DocumentRequirement.id),
        lazy="selectin",
    )

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.status == CycleStatus.PUBLISHED and self.opens_at <= now < self.closes_at


class Specialty(Model):
    __tablename__ = "specialties"
    __table_args__ = (UniqueConstraint("cycle_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))  # e.g. cardiology
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)

    cycle: Mapped[Cycle] = relationship(back_populates="specialties")


class Sensitivity(enum.StrEnum):
    NORMAL = "normal"  # staff and assigned reviewers
    SENSITIVE = "sensitive"  # staff only; purged after the retention period


class ReviewerVisibility(enum.StrEnum):
    ALWAYS = "always"
    UNLESS_BLIND = "unless_blind"
    NEVER = "never"


class ValidityRule(enum.StrEnum):
    NONE = "none"
    # Expiry date entered beside the file must be >= training end + N months.
    VALID_MONTHS_AFTER_TRAINING = "valid_months_after_training"
    # Issue date entered beside the file must be >= deadline - N days.
    ISSUED_DAYS_BEFORE_DEADLINE = "issued_days_before_deadline"


class DocumentRequirement(Model):
    __tablename__ = "document_requirements"
    __table_args__ = (UniqueConstraint("cycle_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))  # e.g. passport, cv (used in file names)
    label: Mapped[str] = mapped_column(String(200))
    help_text: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    accepted_types: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["pdf"])
    max_size_mb: Mapped[int] = mapped_column(Integer, default=10)
    validity_rule: Mapped[str] = mapped_column(String(40), default=ValidityRule.NONE)
    validity_param: Mapped[int | None] = mapped_column(Integer)  # months or days
    sensitivity: Mapped[str] = mapped_column(String(12), default=Sensitivity.NORMAL)
    # Whether reviewers of the selection committee see files of this requirement (sensitive
    # ones never, whatever this says): always, only when the cycle's review is not blind,
    # or never. A blind cycle asks for anonymised versions (a CV without name, photo or
    # institution) as requirements of their own, marked `anonymised`, that reviewers see.
    reviewer_visibility: Mapped[str] = mapped_column(String(14),
                                                     default=ReviewerVisibility.ALWAYS)
    anonymised: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    cycle: Mapped[Cycle] = relationship(back_populates="requirements")
