"""Everything the reviewer's workspace shows for one dossier, loaded in a constant number
of queries: the candidate's facts as review.blind allows, the documents reviewers may see,
the rubric and the reviewer's own review, the others' reviews once the reviewer's own is
submitted (review.policy), the committee's discussion, next/previous in the queue.

The caller found the assignment through review.policy.visible_assignment_or_404; nothing
here loads a nomination any other way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from werkzeug.routing import BuildError

from portal.accounts.models import User
from portal.cycles.models import Cycle
from portal.extensions import db
from portal.i18n import country_name
from portal.institutions.models import Institution
from portal.nominations.dashboard import Countdown, countdown
from portal.nominations.labels import ENGLISH_LEVELS, SEXES
from portal.nominations.models import Nomination
from portal.review import blind, changes, discussion, documents, policy, scoring
from portal.review.documents import ReviewerDocument
from portal.review.models import Assignment, Criterion, OthersVisible, Review, ReviewSetup
from portal.review.queue import Neighbours, QueueFilters, neighbours
from portal.review.reviewer_labels import RECOMMENDATION_LABELS, REVIEW_STATE_LABELS
from portal.threads import services as threads
from portal.threads.services import ThreadView

CHOICE_LABELS: dict[str, dict[str, LazyString]] = {
    "english_level": dict(ENGLISH_LEVELS), "sex": dict(SEXES)}


@dataclass(frozen=True)
class ShownFact:
    label: LazyString
    text: str


@dataclass(frozen=True)
class OtherReview:
    label: str
    scores: dict[str, int]
    recommendation: str
    committee_comment: str
    applicant_comment: str
    score: float | None


@dataclass
class Workspace:
    assignment: Assignment
    nomination: Nomination
    cycle: Cycle
    setup: ReviewSetup | None
    label: str
    facts: list[ShownFact]
    institution: Institution | None  # None when blind hides it
    criteria: list[Criterion]
    review: Review | None
    values: scoring.ReviewInput
    next_revision: int
    closed_note: LazyString | None
    countdown: Countdown | None
    documents: list[ReviewerDocument]
    letter: str
    neighbours: Neighbours
    filters: QueueFilters
    changes: list[str] = field(default_factory=list)  # changed since the reviewer's review
    others: list[OtherReview] = field(default_factory=list)
    others_allowed: bool = False  # the cycle lets reviewers see each other's reviews
    thread: ThreadView | None = None
    errors: dict[str, Any] = field(default_factory=dict)
    state_labels: dict[str, LazyString] = field(default_factory=lambda: REVIEW_STATE_LABELS)
    recommendations: dict[str, LazyString] = field(
        default_factory=lambda: RECOMMENDATION_LABELS)

    @property
    def state(self) -> str:
        return scoring.state_of(self.review)

    @property
    def submitted(self) -> bool:
        return scoring.is_submitted(self.review)

    @property
    def editable(self) -> bool:
        return self.closed_note is None

    @property
    def has_previews(self) -> bool:
        return "review.document_preview" in current_app.view_functions

    def link(self, endpoint: str, document: ReviewerDocument | None = None) -> str | None:
        """The URL of part D's hand-out `endpoint` for the dossier or one document, or None
        while that endpoint does not exist."""
        if endpoint not in current_app.view_functions:
            return None
        values: dict[str, Any] = {"nomination_id": self.nomination.id}
        if document is not None:
            values["document_id"] = document.id
        try:
            return url_for(endpoint, **values)
        except BuildError:
            return None


def _text(name: str, value: object, specialty: str) -> str:
    if name == "specialty_id":
        return specialty or "—"
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if value is None or value == "":
        return "—"
    if name == "nationality":
        return country_name(str(value))
    if name in CHOICE_LABELS:
        return str(CHOICE_LABELS[name].get(str(value), value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def shown_facts(nomination: Nomination, setup: ReviewSetup | None,
                specialty: str) -> list[ShownFact]:
    return [ShownFact(f.label, _text(f.field, f.value, specialty))
            for f in blind.reviewer_facts(nomination, setup)]


def _others(user: User, assignment: Assignment, setup: ReviewSetup | None
            ) -> list[OtherReview]:
    reviews = list(db.session.scalars(policy.others_reviews(user, assignment, setup)
                                      .order_by(Review.assignment_id)))
    if not reviews:
        return []
    letters = discussion.reviewer_letters(assignment.nomination_id)
    names: dict[int, str] = {}
    if setup is not None and setup.others_named:
        names = {u.id: u.name for u in db.session.scalars(
            select(User).where(User.id.in_([r.reviewer_id for r in reviews])))}
    shown = []
    for r in reviews:
        label = discussion.reviewer_name(letters, r.reviewer_id)
        if r.reviewer_id in names:
            label = f"{label} ({names[r.reviewer_id]})"
        shown.append(OtherReview(label, dict(r.scores or {}),
                                 str(RECOMMENDATION_LABELS.get(r.recommendation, "")),
                                 r.committee_comment, r.applicant_comment, r.score))
    return shown


def load(user: User, assignment: Assignment, nomination: Nomination,
         filters: QueueFilters) -> Workspace:
    cycle = db.session.get(Cycle, nomination.cycle_id)
    assert cycle is not None  # a foreign key
    setup = scoring.setup_of(cycle.id)
    specialty = next((s.name for s in cycle.specialties if s.id == nomination.specialty_id),
                     "")
    institution = db.session.get(Institution, nomination.institution_id) \
        if blind.shows_institution(setup) else None
    review = scoring.review_of(assignment)
    closes = setup.closes_at if setup is not None else None
    letters = discussion.reviewer_letters(nomination.id)
    workspace = Workspace(
        assignment=assignment, nomination=nomination, cycle=cycle, setup=setup,
        label=blind.candidate_label(nomination, setup),
        facts=shown_facts(nomination, setup, specialty), institution=institution,
        criteria=scoring.criteria_of(cycle.id), review=review,
        values=scoring.values_of(review),
        next_revision=(review.revision if review is not None else 0) + 1,
        closed_note=scoring.window_refusal(setup),
        countdown=countdown(closes) if closes is not None else None,
        documents=documents.reviewer_documents(user, assignment),
        letter=letters.get(user.id, ""), neighbours=neighbours(user, assignment, filters),
        filters=filters,
        changes=changes.describe(assignment.changed_since_review or [], cycle.requirements),
        others_allowed=setup is None or setup.others_visible != OthersVisible.NEVER,
    )
    if workspace.submitted:
        workspace.others = _others(user, assignment, setup)
        workspace.thread = threads.view(discussion.AUDIENCE, nomination.id, user)
    return workspace
