"""A nomination that changes during review (the nominations workflow's state hook).

- Returned for changes: its reviewers are told; the dossier leaves their queue until it
  is resubmitted (the policy shows only reviewed states). Assignments and reviews stay.
- Resubmitted: reviewers whose review was submitted get the assignment marked "changed
  since your review" with what changed since their review (which candidate facts and
  which documents, as keys "field:<name>" / "document:<requirement code>"; only what
  reviewers of the cycle may read), and every reviewer of the dossier is told.
- Withdrawn: reviewers are told and their active assignments end (removed by the
  portal): the dossier leaves the queue for good, and the loads free up; reviews stay
  for staff and in the reviewer's own list.

Mails name the candidate as reviewers see them (blind.candidate_label) and carry no other
fact of the dossier.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select, update

from portal.accounts.models import User
from portal.accounts.services import external_url
from portal.audit.models import AuditEvent
from portal.audit.services import record
from portal.cycles.models import Cycle, DocumentRequirement
from portal.db import utcnow
from portal.extensions import db
from portal.lifecycle import SYSTEM
from portal.nominations.labels import FIELD_LABELS
from portal.nominations.models import Nomination
from portal.notify.services import queue_mail
from portal.review import blind
from portal.review.lifecycle import ASSIGNMENT
from portal.review.models import (
    Assignment,
    AssignmentStatus,
    PoolMember,
    Review,
    ReviewSetup,
    ReviewStatus,
)
from portal.review.policy import blocking_conflict
from portal.review.setup import setup_of

FOLLOWED_MOVES = frozenset({"return", "resubmit", "withdraw"})
# Audit actions that change what reviewers read of a dossier.
EDIT_ACTIONS = ("nomination.edited",)
DOCUMENT_ACTIONS = ("document.uploaded", "document.replaced", "document.removed")


def _reviewers(nomination: Nomination) -> list[tuple[Assignment, User, Review | None]]:
    """Active assignments of the dossier whose reviewer may see it (in the pool, no
    conflict), with the reviewer and the review (one query)."""
    return [(a, u, r) for a, u, r in db.session.execute(
        select(Assignment, User, Review).join(User, User.id == Assignment.reviewer_id)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .join(PoolMember, (PoolMember.user_id == Assignment.reviewer_id)
              & (PoolMember.cycle_id == Assignment.cycle_id))
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.nomination_id == nomination.id,
               Assignment.status == AssignmentStatus.ACTIVE, PoolMember.active.is_(True),
               User.active.is_(True),
               ~blocking_conflict(Assignment.reviewer_id, Nomination))
        .order_by(Assignment.id)).all()]


def changes_since(nomination: Nomination, since: datetime | None, setup: ReviewSetup | None,
                  requirements: Iterable[DocumentRequirement]) -> list[str]:
    """What changed in the dossier after `since`, as reviewers of the cycle may know it:
    "field:<name>" for candidate facts they read, "document:<code>" for documents they
    see. From the audit log, which records every edit and every file change."""
    query = select(AuditEvent.action, AuditEvent.details).where(
        AuditEvent.object_type == "nomination", AuditEvent.object_id == str(nomination.id),
        AuditEvent.action.in_(EDIT_ACTIONS + DOCUMENT_ACTIONS)).order_by(AuditEvent.id)
    if since is not None:
        query = query.where(AuditEvent.at > since)
    hidden = blind.hidden_facts(setup)
    visible_docs = {r.code for r in requirements if blind.requirement_visible(r, setup)}
    found: list[str] = []
    for action, details in db.session.execute(query).all():
        details = details or {}
        if action in EDIT_ACTIONS:
            keys = [f"field:{f}" for f in details.get("fields", [])
                    if f in blind.REVIEWER_FACTS and f not in hidden]
        else:
            code = str(details.get("requirement") or "")
            keys = [f"document:{code}"] if code in visible_docs else []
        found.extend(k for k in keys if k not in found)
    return found


def describe(keys: Iterable[str], requirements: Iterable[DocumentRequirement],
             ) -> list[LazyString | str]:
    """Labels of changed_since_review keys (facts by the nominations' labels, documents
    by the requirement's label), for the reviewer's queue and workspace."""
    labels = {r.code: r.label for r in requirements}
    out: list[LazyString | str] = []
    for key in keys:
        kind, _sep, name = key.partition(":")
        if kind == "field" and name in FIELD_LABELS:
            out.append(FIELD_LABELS[name])
        elif kind == "document" and name in labels:
            out.append(labels[name])
    # Keys none of which reviewers may read (a hidden fact changed): say that it changed.
    return out or ([_l("the dossier was resubmitted")] if keys else [])


def _link() -> str:
    if has_request_context():
        return external_url("review.queue")
    base = current_app.config["BASE_URL"].rstrip("/")
    with current_app.test_request_context("/", base_url=base, method="POST"):
        return external_url("review.queue")


def on_nomination_moved(nomination: Nomination, move: str, actor: User | None) -> None:
    """The state hook (registered by the review area's routes module)."""
    if move not in FOLLOWED_MOVES:
        return
    people = _reviewers(nomination)
    if not people:
        return
    setup = setup_of(nomination.cycle_id)
    cycle = db.session.get(Cycle, nomination.cycle_id)
    assert cycle is not None  # a foreign key
    # Lazy: worded in each recipient's language when the mail is rendered.
    label = LazyString(lambda: blind.candidate_label(nomination, setup))
    now = utcnow()
    changed: dict[int, list[str]] = {}
    if move == "resubmit":
        for assignment, _user, review in people:
            if review is not None and review.status == ReviewStatus.SUBMITTED:
                since = max(filter(None, (review.submitted_at, review.updated_at)),
                            default=None)
                keys = changes_since(nomination, since, setup, cycle.requirements)
                merged = list(assignment.changed_since_review or [])
                merged += [k for k in keys if k not in merged]
                assignment.changed_since_review = merged or ["resubmitted"]
                changed[assignment.id] = assignment.changed_since_review
    elif move == "withdraw":
        ids = [a.id for a, _u, _r in people]
        for assignment, _u, _r in people:
            ASSIGNMENT.check(assignment.status, "remove", (SYSTEM,))
        db.session.execute(
            update(Assignment).where(Assignment.id.in_(ids),
                                     Assignment.status.in_(ASSIGNMENT.sources("remove")))
            .values(status=AssignmentStatus.REMOVED, ended_at=now)
            .execution_options(synchronize_session="fetch"))
    link = _link()
    for assignment, user, _review in people:
        queue_mail(user.email, f"review_nomination_{move}",
                   subject=_subject(move, label),
                   language=user.language, name=user.name, candidate=label,
                   cycle=cycle,
                   changes=describe(changed.get(assignment.id, []), cycle.requirements),
                   reviewed=assignment.id in changed, link=link)
    record(f"review.nomination_{move}_followed", actor=actor, object_type="nomination",
           object_id=nomination.id,
           details={"reviewers": [u.id for _a, u, _r in people],
                    "changed": {str(k): v for k, v in changed.items()}})


def _subject(move: str, label: LazyString) -> LazyString:
    if move == "return":
        return _l("Review: %(candidate)s was returned for changes", candidate=label)
    if move == "resubmit":
        return _l("Review: %(candidate)s was resubmitted", candidate=label)
    return _l("Review: %(candidate)s was withdrawn", candidate=label)
