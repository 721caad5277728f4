"""The review half of selection: settings, rubric, reviewer pool, conflicts of interest,
assignments and reviews of one cycle.

Reviewers are users with the reviewer role who are in a cycle's pool. A reviewer sees a
nomination only through an active assignment that no conflict of interest blocks
(portal.review.policy); every page, fragment, document, autosave and discussion of the
review area starts from that one rule.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

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

from portal.db import UTCDateTime, utcnow
from portal.extensions import Model


class BlindField(enum.StrEnum):
    """Candidate facts a cycle may hide from reviewers. Contact details and passport data
    are never shown to reviewers, blind or not (portal.review.blind)."""

    NAME = "name"
    NATIVE_NAME = "native_name"
    INSTITUTION = "institution"
    PHOTO = "photo"
    DATE_OF_BIRTH = "date_of_birth"


class OthersVisible(enum.StrEnum):
    AFTER_OWN = "after_own"  # after submitting their own review of the same dossier
    NEVER = "never"


class ReviewSetup(Model):
    """The review settings of one cycle (one row per cycle, made on first use)."""

    __tablename__ = "review_setups"
    __table_args__ = (
        CheckConstraint("reviews_wanted BETWEEN 1 AND 20", name="reviews_wanted_range"),
        CheckConstraint("default_load BETWEEN 1 AND 1000", name="default_load_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"),
                                          unique=True)
    # Moments in UTC, entered in `timezone` (shown in Japan time and the viewer's zone).
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Tokyo")
    reviews_wanted: Mapped[int] = mapped_column(Integer, default=3)
    default_load: Mapped[int] = mapped_column(Integer, default=15)
    blind_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    others_visible: Mapped[str] = mapped_column(String(12), default=OthersVisible.AFTER_OWN)
    others_named: Mapped[bool] = mapped_column(Boolean, default=False)
    confidentiality_text: Mapped[str] = mapped_column(Text, default="")
    # Reviews whose scores spread more than this (on the 0-1 scale) are flagged for
    # discussion (Selection II).
    disagreement_threshold: Mapped[float] = mapped_column(Float, default=0.35)
    # Reviewers' access to dossiers ends when the cycle's decisions are published
    # (Selection II); they keep their own reviews.
    decisions_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def is_blind(self) -> bool:
        return bool(self.blind_fields)

    def hides(self, field: str) -> bool:
        return field in (self.blind_fields or [])

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return (self.opens_at is not None and self.opens_at <= now
                and (self.closes_at is None or now < self.closes_at))

    def is_closed(self, now: datetime | None = None) -> bool:
        return self.closes_at is not None and (now or utcnow()) >= self.closes_at


class Criterion(Model):
    """One criterion of a cycle's rubric. Scale and weight are locked once the first
    review of the cycle is submitted (portal.review.rubric), so every score means the
    same; the wording may still be edited."""

    __tablename__ = "review_criteria"
    __table_args__ = (
        CheckConstraint("scale_max > scale_min", name="scale_order"),
        CheckConstraint("weight > 0", name="weight_positive"),
        UniqueConstraint("cycle_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"),
                                          index=True)
    code: Mapped[str] = mapped_column(String(40))  # stable across copies of the rubric
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # What each point of the scale means: {"1": "No experience ...", "5": "..."}.
    guidance: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    scale_min: Mapped[int] = mapped_column(Integer, default=1)
    scale_max: Mapped[int] = mapped_column(Integer, default=5)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    required: Mapped[bool] = mapped_column(Boolean, default=True)


class PoolMember(Model):
    """A reviewer in a cycle's pool, with what the assignment needs to know."""

    __tablename__ = "review_pool"
    __table_args__ = (UniqueConstraint("cycle_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"),
                                          index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    specialties: Mapped[list[str]] = mapped_column(JSON, default=list)  # specialty codes
    load_limit: Mapped[int | None] = mapped_column(Integer)  # None: the cycle's default
    # Affiliation: a portal institution, or a free-text name and country.
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL"))
    affiliation_name: Mapped[str] = mapped_column(String(200), default="")
    affiliation_country: Mapped[str] = mapped_column(String(2), default="")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The cycle's confidentiality terms, accepted before the first dossier opens.
    terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Conflicts declared up front for the cycle (the reviewer said "none" or listed some).
    conflicts_declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User", lazy="raise")
    institution = relationship("Institution", lazy="raise")


class ConflictKind(enum.StrEnum):
    OWN_INSTITUTION = "own_institution"
    FORMER_COLLEAGUE = "former_colleague"
    PERSONAL = "personal"  # personal or family
    COUNTRY = "country"
    OTHER = "other"


class ConflictSource(enum.StrEnum):
    REVIEWER = "reviewer"  # declared by the reviewer for the cycle
    DOSSIER = "dossier"  # declared by the reviewer on an assigned dossier
    STAFF = "staff"
    AUTOMATIC = "automatic"


class ConflictStatus(enum.StrEnum):
    ACTIVE = "active"
    # An automatic match staff must confirm (a free-text affiliation, an e-mail domain).
    # It blocks like an active one until staff dismiss it: private by default.
    TO_CONFIRM = "to_confirm"
    DISMISSED = "dismissed"


class Conflict(Model):
    """A reviewer must not see or score a dossier: of an institution, a country, or one
    nomination. Exactly one of institution_id, country, nomination_id is set."""

    __tablename__ = "review_conflicts"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN institution_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN nomination_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN country IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_target"),
        # One row per reviewer, target and finding: an automatic match is made once (staff's
        # answer sticks) and a conflict declared twice is the same conflict.
        UniqueConstraint("cycle_id", "reviewer_id", "target", "reason_code",
                         name="uq_review_conflicts_target"),
        Index("ix_review_conflicts_cycle_reviewer", "cycle_id", "reviewer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"))
    nomination_id: Mapped[int | None] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"))
    country: Mapped[str | None] = mapped_column(String(2))
    # "institution:12", "country:MY" or "nomination:34": the target as one value, so the
    # UNIQUE constraint holds (NULLs are never equal in SQL).
    target: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20), default=ConflictKind.OTHER)
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(12), default=ConflictSource.STAFF)
    status: Mapped[str] = mapped_column(String(12), default=ConflictStatus.ACTIVE)
    # For automatic matches: which rule found it ("own_institution", "alumnus_institution",
    # "alumnus_institution_text", "email_domain:<domain>"); "" for declared ones.
    reason_code: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def blocks(self) -> bool:
        return self.status != ConflictStatus.DISMISSED


class AssignmentStatus(enum.StrEnum):
    ACTIVE = "active"
    DECLINED = "declined"  # by the reviewer, with a reason (a conflict, or another one)
    REMOVED = "removed"  # by staff, or because a conflict was found


class EndedBy(enum.StrEnum):
    """Who ended an assignment ("" when it is active, or was ended before this was kept)."""

    REVIEWER = "reviewer"  # declined
    STAFF = "staff"  # removed by hand
    AUTO = "auto"  # replaced by an automatic assignment ("replace unstarted")
    SYSTEM = "system"  # the portal: a conflict of interest was found


class Assignment(Model):
    """A reviewer asked to review one nomination. One row per pair, ever: removing and
    adding again reuses it, so a review is never orphaned."""

    __tablename__ = "review_assignments"
    __table_args__ = (
        UniqueConstraint("nomination_id", "reviewer_id"),
        Index("ix_review_assignments_reviewer", "reviewer_id", "cycle_id", "status"),
        Index("ix_review_assignments_cycle", "cycle_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default=AssignmentStatus.ACTIVE)
    source: Mapped[str] = mapped_column(String(10), default="manual")  # manual | auto
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    declined_reason: Mapped[str] = mapped_column(Text, default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who ended it (EndedBy): the automatic assignment may add back a pair it replaced
    # itself or the portal removed (a conflict since dismissed), never one staff removed
    # by hand or the reviewer declined.
    ended_by: Mapped[str] = mapped_column(String(10), default="", server_default="")
    # When the reviewer was told this dossier is in their queue (one mail per apply).
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the nomination changed after the reviewer's review was submitted (returned
    # and resubmitted): what changed, shown as "changed since your review".
    changed_since_review: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The conflict that removed this assignment (the portal removes it when a conflict is
    # found); dismissing that conflict gives the assignment back.
    removed_by_conflict_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_conflicts.id", ondelete="SET NULL"))

    nomination = relationship("Nomination", lazy="raise")
    reviewer = relationship("User", lazy="raise", foreign_keys=[reviewer_id])
    review: Mapped[Review | None] = relationship(back_populates="assignment", lazy="raise",
                                                 uselist=False)


class Recommendation(enum.StrEnum):
    STRONG_YES = "strong_yes"
    YES = "yes"
    BORDERLINE = "borderline"
    NO = "no"


class ReviewStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Review(Model):
    """A reviewer's scores and comments on one assigned nomination.

    Autosaved as a draft with a revision number: a save carrying an older revision than
    the stored one is refused, so a slow earlier request never overwrites a later one.
    `score` is the weighted mean of the criteria scored, each scaled to 0-1, kept in step
    on every save (portal.review.rubric.weighted_score).
    """

    __tablename__ = "reviews"
    __table_args__ = (
        Index("ix_reviews_cycle_status", "cycle_id", "status"),
        Index("ix_reviews_nomination", "nomination_id"),
        Index("ix_reviews_reviewer", "reviewer_id", "cycle_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("review_assignments.id", ondelete="CASCADE"), unique=True)
    # Copied from the assignment so aggregates need no join.
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default=ReviewStatus.DRAFT)
    # {criterion id (as text): integer on the criterion's scale}
    scores: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    recommendation: Mapped[str] = mapped_column(String(12), default="")
    committee_comment: Mapped[str] = mapped_column(Text, default="")
    applicant_comment: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[float | None] = mapped_column(Float)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a conflict was found after submission: the review leaves every aggregate;
    # staff still see it.
    excluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    excluded_reason: Mapped[str] = mapped_column(Text, default="")

    assignment: Mapped[Assignment] = relationship(back_populates="review", lazy="raise")

    @property
    def submitted(self) -> bool:
        return self.status == ReviewStatus.SUBMITTED

    @property
    def counts(self) -> bool:
        """Part of the aggregates: submitted and not excluded."""
        return self.submitted and self.excluded_at is None


class ReviewReminder(Model):
    """A reminder mailed to one reviewer for one cycle, once per kind (the UNIQUE
    constraint makes a second concurrent tick fail instead of mailing twice)."""

    __tablename__ = "review_reminders_sent"
    __table_args__ = (UniqueConstraint("cycle_id", "reviewer_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # "7d", "1d", "manual:<timestamp>"
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
