"""A reviewer's review of one dossier: autosave, submit, and the rules of both.

Saves carry a revision number (Review.revision). The browser numbers its saves upwards;
the database keeps a save only if it is newer than the stored one (a conditional UPDATE
with `revision < :new` in its WHERE), so a slow earlier save that arrives after a later
one is refused (409, code "stale") instead of overwriting it, and so is a save from a
second tab that has not seen the first tab's work. A plain form post (no JavaScript)
carries the stored revision + 1.

A draft may be incomplete. Submitting needs every required criterion scored and a
comment to the committee; a refused submission still keeps the values as a draft. A
submitted review stays submitted when it is edited before review closes, and each edit
is checked as a submission is (an edit that would leave it incomplete is refused). After
review closes (or before it opens) nothing is saved.

The score is the weighted mean of the criteria scored, each scaled to 0-1
(portal.review.rubric_score), kept in step on every save.

Audit: the first save, the submission and every edit of a submitted review are recorded;
draft autosaves are not (one row per pause in typing would bury the log).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.audit.services import record
from portal.cycles.models import Cycle
from portal.db import rowcount, utcnow
from portal.errors import Conflict, Refused
from portal.extensions import db
from portal.i18n import tokyo_dt
from portal.review import rubric
from portal.review.lifecycle import REVIEW, ReviewState
from portal.review.models import (
    Assignment,
    Criterion,
    Recommendation,
    Review,
    ReviewSetup,
    ReviewStatus,
)
from portal.review.policy import actor_roles
from portal.review.rubric import criteria_of
from portal.review.rubric_score import weighted_score
from portal.review.setup import setup_of

MAX_REVISION = 2**31 - 1  # PostgreSQL's INTEGER


class ReviewError(Refused):
    """A save or a submission refused; `context["errors"]` says which field and why."""


class StaleSave(Conflict):
    """A save older than the stored review (another tab, or a slow request)."""


@dataclass(frozen=True)
class ReviewInput:
    """What the rubric form sends: plain values, parsed from the form by the route."""

    scores: dict[str, int | None]  # criterion id (as text) -> a point of its scale or None
    recommendation: str = ""
    committee_comment: str = ""
    applicant_comment: str = ""


@dataclass(frozen=True)
class Saved:
    review: Review
    # A submission was asked for but refused: what is missing (the values were kept as a
    # draft). Empty when the save did what was asked.
    missing: dict[str, LazyString] = field(default_factory=dict)


def review_of(assignment: Assignment) -> Review | None:
    return db.session.scalar(select(Review).where(Review.assignment_id == assignment.id))


def state_of(review: Review | None) -> str:
    return ReviewState.NEW if review is None else review.status


def window_refusal(setup: ReviewSetup | None, now: datetime | None = None
                   ) -> LazyString | None:
    """Why reviews cannot be changed now (None when they can)."""
    now = now or utcnow()
    if setup is None:
        return None
    if setup.opens_at is not None and now < setup.opens_at:
        return _l("Review opens on %(when)s (Japan time). You can read the dossier now; "
                  "scores can be saved from then on.", when=tokyo_dt(setup.opens_at))
    if setup.is_closed(now):
        return _l("Review closed on %(when)s (Japan time): reviews can no longer be "
                  "changed.", when=tokyo_dt(setup.closes_at))
    return None


def comment_limit() -> int:
    return int(current_app.config["REVIEW_COMMENT_MAX_CHARS"])


def invalid_values(values: ReviewInput, criteria: Sequence[Criterion]
                   ) -> dict[str, LazyString]:
    """Values no review may hold (outside a scale, unknown criterion, too long)."""
    errors: dict[str, LazyString] = {}
    by_id = {str(c.id): c for c in criteria}
    for key, value in values.scores.items():
        criterion = by_id.get(key)
        if criterion is None:
            errors[f"score-{key}"] = _l("This criterion is not part of the rubric.")
        elif value is not None and not criterion.scale_min <= value <= criterion.scale_max:
            errors[f"score-{key}"] = _l("Choose a score from %(low)d to %(high)d.",
                                        low=criterion.scale_min, high=criterion.scale_max)
    if values.recommendation and values.recommendation not in set(Recommendation):
        errors["recommendation"] = _l("Choose one of the recommendations shown.")
    limit = comment_limit()
    for name in ("committee_comment", "applicant_comment"):
        if len(getattr(values, name)) > limit:
            errors[name] = _l("At most %(n)d characters.", n=limit)
    return errors


def missing_for_submission(values: ReviewInput, criteria: Sequence[Criterion]
                           ) -> dict[str, LazyString]:
    """What a submitted review must have and this one lacks."""
    missing: dict[str, LazyString] = {}
    for c in criteria:
        if c.required and values.scores.get(str(c.id)) is None:
            missing[f"score-{c.id}"] = _l("Score this criterion: it is required.")
    if not values.committee_comment.strip():
        missing["committee_comment"] = _l("Write a comment to the committee: it is "
                                          "required.")
    return missing


def values_of(review: Review | None) -> ReviewInput:
    if review is None:
        return ReviewInput(scores={})
    return ReviewInput(scores={k: v for k, v in (review.scores or {}).items()},
                       recommendation=review.recommendation,
                       committee_comment=review.committee_comment,
                       applicant_comment=review.applicant_comment)


def as_json(review: Review | None) -> dict[str, Any]:
    """The stored values as the page's script reloads them."""
    values = values_of(review)
    return {"revision": review.revision if review else 0,
            "status": state_of(review), "scores": values.scores,
            "recommendation": values.recommendation,
            "committee_comment": values.committee_comment,
            "applicant_comment": values.applicant_comment}


def save(user: User, assignment: Assignment, values: ReviewInput, revision: int, *,
         submit: bool = False, now: datetime | None = None) -> Saved:
    """Save the reviewer's review of an assignment they may see (the caller found it
    through review.policy). `revision` numbers this save; see the module's docstring."""
    now = now or utcnow()
    if not 1 <= revision <= MAX_REVISION:
        raise ReviewError(_l("This save carries no valid revision number. Reload the page."),
                          code="revision")
    setup = setup_of(assignment.cycle_id)
    refusal = window_refusal(setup, now)
    if refusal is not None:
        raise ReviewError(refusal, code="closed")
    if submit:
        # The first submission locks the rubric (portal.review.rubric): take its lock
        # before reading the criteria, so a change of scales cannot slip in between.
        cycle = db.session.get(Cycle, assignment.cycle_id)
        assert cycle is not None
        rubric.lock_rubric(cycle)
    criteria = criteria_of(assignment.cycle_id)
    invalid = invalid_values(values, criteria)
    if invalid:
        raise ReviewError(_l("The review was not saved: please correct the fields marked."),
                          errors=invalid)
    review = review_of(assignment)
    state = state_of(review)
    missing = missing_for_submission(values, criteria)
    if state == ReviewState.SUBMITTED and missing:
        raise ReviewError(_l("A submitted review must stay complete. Your change was not "
                             "saved."), errors=missing)
    name = "submit" if submit and state != ReviewState.SUBMITTED and not missing else "save"
    move = REVIEW.check(state, name, actor_roles(user, assignment),
                        done=_l("This review has already been submitted."))
    scores = {k: v for k, v in values.scores.items() if v is not None}
    written: dict[str, Any] = {
        "status": move.target, "scores": scores, "recommendation": values.recommendation,
        "committee_comment": values.committee_comment,
        "applicant_comment": values.applicant_comment,
        "score": weighted_score(rubric.scales_of(criteria), scores),
        "revision": revision, "updated_at": now,
    }
    if move.target == ReviewState.SUBMITTED and state != ReviewState.SUBMITTED:
        written["submitted_at"] = now
    created = False
    if review is None:
        review, created = _create(assignment, written, now)
    if not created:
        _update(review, move.sources, written, revision)
    _audit(user, review, state, move.target, created)
    if move.target == ReviewState.SUBMITTED and assignment.changed_since_review:
        # The reviewer has seen the changes: the marker goes.
        db.session.execute(update(Assignment).where(Assignment.id == assignment.id)
                           .values(changed_since_review=[]))
    return Saved(review, missing if submit and name != "submit" and missing else {})


def _create(assignment: Assignment, written: dict[str, Any], now: datetime
            ) -> tuple[Review, bool]:
    """The review's row, made by its first save (or found, made by a save at the same
    moment: then the caller updates it under the revision rule)."""
    try:
        with db.session.begin_nested():
            review = Review(assignment_id=assignment.id, cycle_id=assignment.cycle_id,
                            nomination_id=assignment.nomination_id,
                            reviewer_id=assignment.reviewer_id, created_at=now, **written)
            db.session.add(review)
        return review, True
    except IntegrityError:
        found = review_of(assignment)
        assert found is not None
        return found, False


def _update(review: Review, sources: frozenset[str], written: dict[str, Any],
            revision: int) -> None:
    result = db.session.execute(
        update(Review).where(Review.id == review.id, Review.revision < revision,
                             Review.status.in_(sources))
        .values(**written).execution_options(synchronize_session=False))
    db.session.refresh(review)
    if rowcount(result) == 1:
        return
    if review.revision >= revision:
        raise StaleSave(_l("A newer version of this review was saved (in another tab or "
                           "window?). The form now shows that version."), code="stale",
                        stored=as_json(review))
    raise Conflict(_l("This review was submitted in another tab at the same moment. Reload "
                      "the page."), code="race", stored=as_json(review))


def _audit(user: User, review: Review, before: str, after: str, created: bool) -> None:
    action = None
    if after == ReviewState.SUBMITTED:
        action = "review.submitted" if before != ReviewState.SUBMITTED else "review.edited"
    elif created:
        action = "review.started"
    if action is not None:
        record(action, actor=user, object_type="review", object_id=review.id,
               details={"nomination_id": review.nomination_id, "revision": review.revision,
                        "score": review.score})


def is_submitted(review: Review | None) -> bool:
    return review is not None and review.status == ReviewStatus.SUBMITTED
