"""A nomination: one candidate put forward by one institution in one cycle."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, utcnow
from portal.extensions import Model
from portal.nominations.lifecycle import COUNTED_STATES, EDITABLE_STATES, NominationState

# The states and the sets derived from the lifecycle table live with the table; they are
# re-exported here for the models' readers.
__all__ = ["COUNTED_STATES", "EDITABLE_STATES", "NominationState"]


class Nomination(Model):
    __tablename__ = "nominations"
    __table_args__ = (
        Index("ix_nominations_cycle_state", "cycle_id", "state"),
        Index("ix_nominations_cycle_institution", "cycle_id", "institution_id"),
        Index("ix_nominations_cycle_country", "cycle_id", "country"),
        Index("ix_nominations_family_name", "family_name"),
        Index("ix_nominations_passport", "cycle_id", "passport_number"),
        # Sorts of the staff list within a cycle (bench/list_latency.py measures them).
        Index("ix_nominations_cycle_updated", "cycle_id", "updated_at"),
        Index("ix_nominations_cycle_submitted", "cycle_id", "submitted_at"),
        Index("ix_nominations_cycle_name", "cycle_id", "family_name", "given_names"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public reference shown to people and used in URLs of one-time links (not the id).
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    # Copied from the institution so lists filter by country without a join.
    country: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(14), default=NominationState.DRAFT)
    # Identity as in the passport (Latin script; one-name people have no given names).
    family_name: Mapped[str] = mapped_column(String(120), default="")
    given_names: Mapped[str] = mapped_column(String(120), default="")
    native_name: Mapped[str] = mapped_column(String(200), default="")
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(10), default="")
    nationality: Mapped[str] = mapped_column(String(2), default="")
    passport_number: Mapped[str] = mapped_column(String(30), default="")
    # Contact.
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    # Position, specialty, experience.
    position: Mapped[str] = mapped_column(String(200), default="")
    department: Mapped[str] = mapped_column(String(200), default="")
    specialty_id: Mapped[int | None] = mapped_column(ForeignKey("specialties.id"))
    experience_years: Mapped[int | None] = mapped_column(Integer)
    # English.
    english_level: Mapped[str] = mapped_column(String(20), default="")
    english_evidence: Mapped[str] = mapped_column(String(200), default="")
    # Prior visits to Japan / prior participation in this program.
    prior_visit_japan: Mapped[bool] = mapped_column(Boolean, default=False)
    prior_participation: Mapped[bool] = mapped_column(Boolean, default=False)
    prior_participation_year: Mapped[int | None] = mapped_column(Integer)
    # Preferred training.
    preferred_field: Mapped[str] = mapped_column(String(200), default="")
    preferred_hospital: Mapped[str] = mapped_column(String(200), default="")
    motivation: Mapped[str] = mapped_column(Text, default="")
    # Kept up to date by the service on every change, so the staff list can filter on it
    # at 10,000 rows without recomputing each nomination's checklist.
    is_complete: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    duplicate_flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    cycle = relationship("Cycle", lazy="raise")
    institution = relationship("Institution", lazy="raise")
    specialty = relationship("Specialty", lazy="raise")
    documents: Mapped[list[NominationDocument]] = relationship(
        back_populates="nomination", lazy="raise", cascade="all, delete-orphan"
    )

    @property
    def candidate_name(self) -> str:
        return " ".join(p for p in (self.given_names, self.family_name) if p)

    @property
    def editable(self) -> bool:
        return self.state in EDITABLE_STATES


class DocumentState(enum.StrEnum):
    UPLOADED = "uploaded"
    INVALID = "invalid"  # a validity rule failed, or staff marked it; `problem` says why
    PURGED = "purged"  # sensitive file deleted after retention; the row remains


class NominationDocument(Model):
    """The current file for one requirement of one nomination (replaced, not versioned)."""

    __tablename__ = "nomination_documents"
    __table_args__ = (UniqueConstraint("nomination_id", "requirement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    requirement_id: Mapped[int] = mapped_column(ForeignKey("document_requirements.id"))
    blob_id: Mapped[int] = mapped_column(ForeignKey("blobs.id"), index=True)
    # The copy of a PDF that reviewers get (no title, author or XMP metadata), made on the
    # first reviewer request (portal.review.documents); dropped when the file is replaced.
    reviewer_blob_id: Mapped[int | None] = mapped_column(
        ForeignKey("blobs.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(10), default=DocumentState.UPLOADED)
    problem: Mapped[str | None] = mapped_column(Text)
    # Entered by the nominator beside the file where the requirement has a validity rule.
    expires_on: Mapped[date | None] = mapped_column(Date)
    issued_on: Mapped[date | None] = mapped_column(Date)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    nomination: Mapped[Nomination] = relationship(back_populates="documents")
    requirement = relationship("DocumentRequirement", lazy="raise")
    blob = relationship("Blob", lazy="raise", foreign_keys=[blob_id])


class NominationEvent(Model):
    """History: every state change and staff request, shown to institution and staff."""

    __tablename__ = "nomination_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    from_state: Mapped[str | None] = mapped_column(String(14))
    to_state: Mapped[str | None] = mapped_column(String(14))
    kind: Mapped[str] = mapped_column(String(30))  # e.g. submitted, returned, endorsed
    comment: Mapped[str] = mapped_column(Text, default="")


class ReturnNote(Model):
    """A staff comment on one field or one document when a nomination is returned."""

    __tablename__ = "nomination_return_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("nomination_events.id", ondelete="CASCADE"))
    field: Mapped[str | None] = mapped_column(String(60))  # a Nomination column name
    requirement_id: Mapped[int | None] = mapped_column(ForeignKey("document_requirements.id"))
    comment: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Confirmation(Model):
    """Endorsement by the head of the institution, or consent of the candidate.

    Given through a one-time link (portal.tokens), without an account; recorded with
    time and IP. The latest row of each kind counts, unless a change to one of the facts
    it confirmed voided it (`voided_at`, with the fields that changed in
    `voided_fields`; the row stays as history). The summary shown is stored in
    `snapshot`; an answer to a link whose summary no longer matches is refused.

    Where the request and the answer came from (network address, a keyed hash of the
    browser session) is kept so staff can see when the nominator answered their own
    link: a signal, not a verdict, deleted with the nomination's retention
    (portal.intake.purge).
    """

    __tablename__ = "nomination_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))  # endorsement | consent
    email: Mapped[str] = mapped_column(String(254))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # granted | declined | correction_requested ; None while the link is unanswered.
    decision: Mapped[str | None] = mapped_column(String(24))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_ip: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_fields: Mapped[list[str] | None] = mapped_column(JSON)  # Nomination columns
    requested_ip: Mapped[str | None] = mapped_column(String(64))
    requested_session: Mapped[str | None] = mapped_column(String(64))
    decided_session: Mapped[str | None] = mapped_column(String(64))

    @property
    def same_address(self) -> bool:
        """Answered from the network address the nominator asked from."""
        return bool(self.requested_ip) and self.requested_ip == self.decided_ip

    @property
    def same_session(self) -> bool:
        """Answered in the browser session the nominator asked from."""
        return bool(self.requested_session) and self.requested_session == self.decided_session


class ChunkedDocumentUpload(Model):
    """Which nomination and requirement a resumable upload (storage PendingUpload) is for.

    One per nomination and requirement: a new start replaces the earlier one. Deleted
    with its PendingUpload (the storage sweep removes abandoned ones).
    """

    __tablename__ = "nomination_chunked_uploads"
    # Ids are in the upload's URLs: SQLite must not give a replaced upload's id to the
    # next one (a tab still sending parts of the old file would reach the new upload).
    __table_args__ = (UniqueConstraint("nomination_id", "requirement_id"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    pending_id: Mapped[int] = mapped_column(
        ForeignKey("pending_uploads.id", ondelete="CASCADE"), unique=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), index=True)
    requirement_id: Mapped[int] = mapped_column(ForeignKey("document_requirements.id"))
    # Lets a browser find its own unfinished upload again (name, size, modified time).
    fingerprint: Mapped[str] = mapped_column(String(200), default="")

    pending = relationship("PendingUpload", lazy="joined")


class ReminderSent(Model):
    """A deadline reminder mailed to one institution for one cycle (sent once each).

    The unique constraint makes a second concurrent `send-reminders` fail instead of
    mailing twice.
    """

    __tablename__ = "nomination_reminders_sent"
    __table_args__ = (UniqueConstraint("cycle_id", "institution_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # "7d" | "1d"
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
