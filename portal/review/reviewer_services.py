"""What a reviewer does about their assignments besides reviewing: accept the cycle's
confidentiality terms, decline an assignment (with a reason), declare a conflict of
interest on an assigned dossier. Staff hear of declines and conflicts by mail.

A conflict declared on a dossier takes it out of the reviewer's queue at once: the
conflict itself blocks access (review.policy), and the assignment is removed by the
portal (ASSIGNMENT move "remove" as SYSTEM) so the reviewer's load is freed and staff see
the dossier needs someone else. A review already submitted is excluded from every
aggregate (Review.excluded_at); staff still see it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal.accounts.models import Role, User, UserRole
from portal.accounts.services import external_url
from portal.audit.services import record
from portal.cycles.models import Cycle
from portal.db import rowcount, utcnow
from portal.errors import Conflict, NotYours, Refused
from portal.extensions import db
from portal.nominations.models import Nomination
from portal.notify.services import queue_mail
from portal.review import conflicts
from portal.review.lifecycle import ASSIGNMENT
from portal.review.models import (
    Assignment,
    ConflictKind,
    ConflictSource,
    EndedBy,
    PoolMember,
    Review,
    ReviewSetup,
    ReviewStatus,
)
from portal.review.models import Conflict as ConflictRow
from portal.review.policy import actor_roles
from portal.review.reviewer_labels import CONFLICT_KIND_LABELS

REASON_MIN = 3
REASON_MAX = 2000
# Part B's page of one nomination's assignments (with replacements), if it exists; else
# the cycle's assignment page, else the staff's nomination page.
STAFF_PAGES = (("review.nomination_assignment", "nomination"),
               ("review.assignment", "cycle"), ("intake.detail", "nomination"))


class ReviewerError(Refused):
    """A reviewer's request refused; the message says why."""


def staff_recipients() -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == str(Role.STAFF), User.active.is_(True)).order_by(User.id)))


def staff_link(nomination: Nomination) -> str:
    """Where staff find someone else for the dossier."""
    for endpoint, kind in STAFF_PAGES:
        if endpoint in current_app.view_functions:
            if kind == "cycle":
                return external_url(endpoint, cycle_id=nomination.cycle_id)
            return external_url(endpoint, nomination_id=nomination.id)
    return external_url("main.dashboard")


def _tell_staff(template: str, subject: object, nomination: Nomination, reviewer: User,
                **context: Any) -> None:
    link = staff_link(nomination)
    for person in staff_recipients():
        queue_mail(person.email, template, subject=subject, language=person.language,
                   name=person.name, nomination=nomination, reviewer=reviewer, link=link,
                   **context)


def _clean(text: str, what: object) -> str:
    text = (text or "").strip()
    if len(text) < REASON_MIN:
        raise ReviewerError(what)
    if len(text) > REASON_MAX:
        raise ReviewerError(_l("At most %(n)d characters.", n=REASON_MAX))
    return text


# -- confidentiality terms ----------------------------------------------------------------

# The terms reviewers accept when staff have not written the cycle's own.
DEFAULT_TERMS = _l(
    "Everything you read in the dossiers and in the committee's discussion is confidential. "
    "Do not copy, share or keep the documents, and do not contact candidates or their "
    "institutions about the selection. Tell program staff at once if you have a conflict "
    "of interest with a candidate or an institution.")


def terms_text(setup: ReviewSetup | None) -> str:
    """The confidentiality terms of the cycle, as the reviewer reads them."""
    text = setup.confidentiality_text.strip() if setup is not None else ""
    return text or str(DEFAULT_TERMS)


def pool_member(user: User, cycle_id: int) -> PoolMember:
    member = db.session.scalar(select(PoolMember).where(
        PoolMember.cycle_id == cycle_id, PoolMember.user_id == user.id,
        PoolMember.active.is_(True)))
    if member is None:
        raise NotYours()
    return member


def accept_terms(user: User, cycle_id: int, now: datetime | None = None) -> bool:
    """The reviewer accepts the cycle's confidentiality terms (recorded with a digest of
    the text accepted, in the reviewer's language). False when they had accepted them
    already."""
    member = pool_member(user, cycle_id)
    setup = db.session.scalar(select(ReviewSetup).where(ReviewSetup.cycle_id == cycle_id))
    text = terms_text(setup)
    result = db.session.execute(
        update(PoolMember).where(PoolMember.id == member.id,
                                 PoolMember.terms_accepted_at.is_(None))
        .values(terms_accepted_at=now or utcnow()))
    if not rowcount(result):
        return False
    record("review.terms_accepted", actor=user, object_type="review_pool",
           object_id=member.id,
           details={"cycle_id": cycle_id,
                    "terms_sha256": hashlib.sha256(text.encode()).hexdigest()})
    return True


# -- decline ------------------------------------------------------------------------------

def _end(assignment: Assignment, name: str, actors: frozenset[str], values: dict[str, object]
         ) -> None:
    """Make assignment move `name` with a conditional UPDATE on the table's sources."""
    move = ASSIGNMENT.check(assignment.status, name, actors,
                            done=_l("This assignment has already ended."))
    result = db.session.execute(
        update(Assignment).where(Assignment.id == assignment.id,
                                 Assignment.status.in_(move.sources))
        .values(status=move.target, **values).execution_options(synchronize_session=False))
    if rowcount(result) != 1:
        raise Conflict(_l("This assignment was changed at the same moment. Reload the page."),
                       code="race")
    db.session.refresh(assignment)


def decline(user: User, assignment: Assignment, nomination: Nomination, reason: str,
            now: datetime | None = None) -> None:
    """The reviewer will not review this dossier, for a reason other than a conflict."""
    reason = _clean(reason, _l("Say briefly why you decline (at least %(n)d characters).",
                               n=REASON_MIN))
    submitted = db.session.scalar(select(Review.id).where(
        Review.assignment_id == assignment.id, Review.status == ReviewStatus.SUBMITTED))
    if submitted is not None:
        raise ReviewerError(_l("You have submitted your review of this dossier. If you should "
                               "no longer review it, please write to program staff."))
    _end(assignment, "decline", actor_roles(user, assignment),
         {"declined_reason": reason, "ended_at": now or utcnow(),
          "ended_by": EndedBy.REVIEWER})
    record("review.assignment_declined", actor=user, object_type="review_assignment",
           object_id=assignment.id,
           details={"nomination_id": nomination.id, "reason": reason})
    _tell_staff("review_declined",
                _l("A reviewer declined nomination %(ref)s", ref=nomination.reference),
                nomination, user, reason=reason)


# -- a conflict declared on a dossier -----------------------------------------------------

def declare_conflict(user: User, assignment: Assignment, nomination: Nomination, kind: str,
                     note: str, now: datetime | None = None) -> ConflictRow:
    """The reviewer has a conflict of interest with this dossier: it leaves their queue
    at once; staff are told and find a replacement."""
    if kind not in set(ConflictKind):
        raise ReviewerError(_l("Choose the kind of conflict."))
    note = (note or "").strip()
    if len(note) > REASON_MAX:
        raise ReviewerError(_l("At most %(n)d characters.", n=REASON_MAX))
    cycle = db.session.get(Cycle, nomination.cycle_id)
    assert cycle is not None
    # One way in for every conflict: it removes the assignment, excludes a submitted
    # review and records who declared what (portal.review.conflicts).
    conflict, _effect = conflicts.add_conflict(
        cycle, user, conflicts.Target(nomination_id=nomination.id), kind=kind, note=note,
        actor=user, source=ConflictSource.DOSSIER)
    _tell_staff("review_conflict_declared",
                _l("Conflict of interest declared on nomination %(ref)s",
                   ref=nomination.reference),
                nomination, user, kind_label=CONFLICT_KIND_LABELS[kind], note=note)
    return conflict
