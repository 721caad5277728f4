"""What a reviewer may see: one rule, used by every reviewer-facing page and file.

A reviewer sees a nomination only through an ACTIVE assignment to them,
- for a nomination in a state the committee reviews (submitted, resubmitted, under review;
  a nomination returned to its institution leaves the queue until it is resubmitted, a
  withdrawn one for good),
- with no conflict of interest blocking it (a Conflict of that cycle and reviewer, not
  dismissed, whose target is the nomination, its institution or its country; conflicts
  waiting for staff to confirm them block too: private by default),
- before the cycle's decisions are published (then reviewers keep only their own reviews),
- after the reviewer accepted the cycle's confidentiality terms.

`assignments_visible_to(user)` is that rule as a query. Pages, fragments, documents,
previews, autosave, discussion and exports all start from it, so a guessed id or a
conflict declared a second ago never opens a dossier. Objects outside it answer 404.

Others' reviews of a dossier: only after the reviewer submitted their own, and only if the
cycle lets reviewers see them (`others_visible`).
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import ColumnElement, Select, exists, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm.interfaces import ORMOption

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.lifecycle import REVIEWER, STAFF
from portal.nominations.lifecycle import NominationState
from portal.nominations.models import Nomination
from portal.review.models import (
    Assignment,
    AssignmentStatus,
    Conflict,
    ConflictStatus,
    OthersVisible,
    PoolMember,
    Review,
    ReviewSetup,
    ReviewStatus,
)

# The states in which the committee reads a dossier.
REVIEWED_STATES = frozenset({NominationState.SUBMITTED, NominationState.RESUBMITTED,
                             NominationState.UNDER_REVIEW})


def is_reviewer(user: User | None) -> bool:
    return user is not None and bool(user.is_authenticated) and user.has_role(Role.REVIEWER)


def is_staff(user: User | None) -> bool:
    return user is not None and bool(user.is_authenticated) and user.has_role(Role.STAFF)


def actor_roles(user: User | None, assignment: Assignment) -> frozenset[str]:
    """As whom `user` acts on an assignment (and its review), in the lifecycle's terms."""
    roles: set[str] = set()
    if is_staff(user):
        roles.add(STAFF)
    if user is not None and is_reviewer(user) and assignment.reviewer_id == user.id:
        roles.add(REVIEWER)
    return frozenset(roles)


def blocking_conflict(reviewer_id: ColumnElement[int] | InstrumentedAttribute[int] | int,
                      nomination: type[Nomination] = Nomination) -> ColumnElement[bool]:
    """EXISTS a conflict that keeps `reviewer_id` away from the nomination (correlated)."""
    return exists().where(
        Conflict.reviewer_id == reviewer_id,
        Conflict.cycle_id == nomination.cycle_id,
        Conflict.status != ConflictStatus.DISMISSED,
        or_(Conflict.nomination_id == nomination.id,
            Conflict.institution_id == nomination.institution_id,
            Conflict.country == nomination.country),
    )


def _open_to_reviewers() -> ColumnElement[bool]:
    """The cycle's decisions are not published yet (no setup row: nothing published)."""
    return ~exists().where(ReviewSetup.cycle_id == Nomination.cycle_id,
                           ReviewSetup.decisions_published_at.is_not(None))


def _terms_accepted(user_id: int) -> ColumnElement[bool]:
    return exists().where(PoolMember.cycle_id == Assignment.cycle_id,
                          PoolMember.user_id == user_id, PoolMember.active,
                          PoolMember.terms_accepted_at.is_not(None))


def assignments_visible_to(user: User | None) -> Select[tuple[Assignment, Nomination]]:
    """(assignment, nomination) rows the reviewer may open now; nobody else gets any."""
    query = select(Assignment, Nomination).join(
        Nomination, Nomination.id == Assignment.nomination_id)
    if user is None or not is_reviewer(user):
        return query.where(false())
    return query.where(
        Assignment.reviewer_id == user.id,
        Assignment.status == AssignmentStatus.ACTIVE,
        Nomination.state.in_(REVIEWED_STATES),
        ~blocking_conflict(user.id),
        _open_to_reviewers(),
        _terms_accepted(user.id),
    )


def visible_assignment_or_404(user: User | None, nomination_id: int,
                              *options: ORMOption) -> tuple[Assignment, Nomination]:
    """The reviewer's assignment to this nomination and the nomination, or 404."""
    query = assignments_visible_to(user).where(Assignment.nomination_id == nomination_id)
    if options:
        query = query.options(*options)
    row = db.session.execute(query).first()
    if row is None:
        abort(404)
    return row[0], row[1]


def own_reviews(user: User | None) -> Select[tuple[Review]]:
    """Every review the reviewer wrote, whatever became of the dossier since (after the
    decisions are published reviewers keep these, and nothing else)."""
    if user is None or not is_reviewer(user):
        return select(Review).where(false())
    return select(Review).where(Review.reviewer_id == user.id)


def may_see_others(user: User, assignment: Assignment, setup: ReviewSetup | None) -> bool:
    """Others' reviews of this dossier: after submitting one's own, if the cycle allows."""
    if setup is not None and setup.others_visible == OthersVisible.NEVER:
        return False
    return db.session.scalar(select(exists().where(
        Review.assignment_id == assignment.id,
        Review.status == ReviewStatus.SUBMITTED))) or False


def others_reviews(user: User, assignment: Assignment,
                   setup: ReviewSetup | None) -> Select[tuple[Review]]:
    """The other reviews of the dossier the reviewer may read: submitted, not excluded,
    by reviewers who are themselves not conflicted; none before the rule above allows."""
    if not may_see_others(user, assignment, setup):
        return select(Review).where(false())
    return select(Review).join(Nomination, Nomination.id == Review.nomination_id).where(
        Review.nomination_id == assignment.nomination_id,
        Review.reviewer_id != user.id,
        Review.status == ReviewStatus.SUBMITTED,
        Review.excluded_at.is_(None),
        ~blocking_conflict(Review.reviewer_id),
    )


def conflicted(reviewer_id: int, nomination: Nomination) -> bool:
    """Is this reviewer kept away from this nomination by a conflict (any source)?"""
    return db.session.scalar(select(Nomination.id).where(
        Nomination.id == nomination.id, blocking_conflict(reviewer_id))) is not None
