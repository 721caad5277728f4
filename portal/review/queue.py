"""The reviewer's queue: the dossiers they may open in one cycle (review.policy), with the
state of their own review, their progress ("7 of 15 submitted") and the deadline;
next/previous through the queue in its order; the reviewer's dashboard section.

Nothing here reads other reviewers' work: every query joins the reviewer's own review
only, so no column, sort order or count can reveal another reviewer's score before the
reviewer has submitted their own (pretalx issue 611 leaked the aggregate through the sort
order). A constant number of queries whatever the size of the queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select

from portal.accounts.models import User
from portal.cycles.models import Cycle, Specialty
from portal.errors import NotYours
from portal.extensions import db
from portal.listing import ListFilters, Page, choice, page_of, parse_int
from portal.nominations.dashboard import Countdown, countdown
from portal.nominations.models import Nomination
from portal.review import changes, discussion, policy
from portal.review.blind import candidate_label
from portal.review.lifecycle import ReviewState
from portal.review.models import (
    Assignment,
    AssignmentStatus,
    PoolMember,
    Review,
    ReviewSetup,
    ReviewStatus,
)
from portal.review.reviewer_labels import REVIEW_STATE_LABELS
from portal.threads import services as threads


@dataclass(frozen=True)
class QueueFilters(ListFilters):
    PER_PAGE = 50
    SORT_KEYS = ("reference", "status", "specialty")
    DEFAULT_SORT = "reference"

    cycle: int = 0
    status: str = ""  # a ReviewState
    specialty: int = 0  # a Specialty id of the cycle

    @classmethod
    def parse(cls, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"cycle": parse_int(args.get("cycle"), default=0) or 0,
                "status": choice(args.get("status"), list(ReviewState)),
                "specialty": parse_int(args.get("specialty"), default=0) or 0}


@dataclass(frozen=True)
class Pool:
    """One cycle the reviewer reviews for."""

    member: PoolMember
    cycle: Cycle
    setup: ReviewSetup | None

    @property
    def terms_accepted(self) -> bool:
        return self.member.terms_accepted_at is not None

    @property
    def published(self) -> bool:
        return self.setup is not None and self.setup.decisions_published_at is not None

    @property
    def countdown(self) -> Countdown | None:
        closes = self.setup.closes_at if self.setup is not None else None
        return countdown(closes) if closes is not None else None


@dataclass(frozen=True)
class Progress:
    assigned: int = 0
    started: int = 0  # a draft or submitted review
    submitted: int = 0


@dataclass(frozen=True)
class QueueItem:
    assignment: Assignment
    nomination: Nomination
    review: Review | None
    label: str
    specialty: str
    unread: int = 0
    changes: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        return ReviewState.NEW if self.review is None else self.review.status

    @property
    def own_score(self) -> float | None:
        return self.review.score if self.review is not None else None


@dataclass
class Queue:
    pools: list[Pool]
    pool: Pool | None
    filters: QueueFilters
    page: Page[QueueItem] | None = None
    progress: Progress = field(default_factory=Progress)
    waiting: int = 0  # assigned dossiers behind the terms not accepted yet
    specialties: list[Specialty] = field(default_factory=list)
    state_labels: Mapping[str, object] = field(default_factory=lambda: REVIEW_STATE_LABELS)


def pools_of(user: User) -> list[Pool]:
    """The reviewer's active pools, the latest cycle first (three queries)."""
    rows = db.session.execute(
        select(PoolMember, Cycle).join(Cycle, Cycle.id == PoolMember.cycle_id)
        .where(PoolMember.user_id == user.id, PoolMember.active.is_(True))
        .order_by(Cycle.opens_at.desc(), Cycle.id.desc())).all()
    ids = [cycle.id for _member, cycle in rows]
    setups = {s.cycle_id: s for s in db.session.scalars(
        select(ReviewSetup).where(ReviewSetup.cycle_id.in_(ids)))} if ids else {}
    return [Pool(member, cycle, setups.get(cycle.id)) for member, cycle in rows]


def _state_order() -> ColumnElement[int]:
    return case((Review.id.is_(None), 0), (Review.status == ReviewStatus.DRAFT, 1), else_=2)


def _visible(user: User, cycle_id: int) -> Select[Any]:
    """The reviewer's visible assignments of the cycle with their own review."""
    return (policy.assignments_visible_to(user)
            .add_columns(Review)
            .outerjoin(Review, Review.assignment_id == Assignment.id)
            .outerjoin(Specialty, Specialty.id == Nomination.specialty_id)
            .where(Assignment.cycle_id == cycle_id))


def _filtered(query: Select[Any], filters: QueueFilters) -> Select[Any]:
    if filters.status == ReviewState.NEW:
        query = query.where(Review.id.is_(None))
    elif filters.status:
        query = query.where(Review.status == filters.status)
    if filters.specialty:
        query = query.where(Nomination.specialty_id == filters.specialty)
    return query


def _ordered(query: Select[Any], filters: QueueFilters) -> Select[Any]:
    """The queue's order: only the nomination's own facts and the reviewer's own state."""
    keys: dict[str, list[Any]] = {
        "reference": [Nomination.reference],
        "status": [_state_order(), Nomination.reference],
        "specialty": [func.coalesce(Specialty.position, 1_000_000), Nomination.reference],
    }
    columns = keys.get(filters.sort_key, keys["reference"])
    if filters.descending:
        columns = [c.desc() for c in columns]
    return query.order_by(*columns, Assignment.id)


def progress_by_cycle(user: User) -> dict[int, Progress]:
    """Assigned, started and submitted per cycle, among the dossiers the reviewer may
    open (one query)."""
    query = (policy.assignments_visible_to(user)
             .outerjoin(Review, Review.assignment_id == Assignment.id)
             .with_only_columns(
                 Assignment.cycle_id, func.count(Assignment.id), func.count(Review.id),
                 func.coalesce(func.sum(case((Review.status == ReviewStatus.SUBMITTED, 1),
                                             else_=0)), 0))
             .group_by(Assignment.cycle_id))
    return {cycle_id: Progress(int(n), int(started), int(submitted))
            for cycle_id, n, started, submitted in db.session.execute(query).all()}


def waiting_by_cycle(user: User) -> dict[int, int]:
    """Active assignments per cycle, whatever else holds them back (a count only: shown
    beside the terms the reviewer has not accepted yet)."""
    rows = db.session.execute(
        select(Assignment.cycle_id, func.count(Assignment.id))
        .where(Assignment.reviewer_id == user.id,
               Assignment.status == AssignmentStatus.ACTIVE)
        .group_by(Assignment.cycle_id)).all()
    return {cycle_id: int(n) for cycle_id, n in rows}


def _chosen(pools: list[Pool], cycle_id: int) -> Pool | None:
    for pool in pools:
        if pool.cycle.id == cycle_id:
            return pool
    return pools[0] if pools else None


def queue(user: User, filters: QueueFilters) -> Queue:
    pools = pools_of(user)
    pool = _chosen(pools, filters.cycle)
    result = Queue(pools=pools, pool=pool, filters=filters)
    if pool is None:
        return result
    result.specialties = list(pool.cycle.specialties)
    if not pool.terms_accepted:
        result.waiting = waiting_by_cycle(user).get(pool.cycle.id, 0)
        return result
    result.progress = progress_by_cycle(user).get(pool.cycle.id, Progress())
    query = _ordered(_filtered(_visible(user, pool.cycle.id), filters), filters)
    rows = page_of(query, filters.page, filters.size, scalars=False)
    names = {s.id: s.name for s in pool.cycle.specialties}
    submitted = [n.id for _a, n, r in rows.items if r is not None and r.submitted]
    unread = threads.unread_counts(discussion.AUDIENCE, submitted, user)
    items = [QueueItem(assignment=a, nomination=n, review=r,
                       label=candidate_label(n, pool.setup),
                       specialty=names.get(n.specialty_id or 0, ""),
                       unread=unread.get(n.id, 0),
                       changes=changes.describe(a.changed_since_review or [],
                                                pool.cycle.requirements))
             for a, n, r in rows.items]
    result.page = Page(items=items, page=rows.page, per_page=rows.per_page,
                       has_more=rows.has_more, total=rows.total)
    return result


@dataclass(frozen=True)
class Neighbours:
    previous: int | None  # nomination ids
    next: int | None
    position: int  # 1-based, among the dossiers the queue's filters show
    count: int


def neighbours(user: User, assignment: Assignment, filters: QueueFilters) -> Neighbours:
    """The dossiers before and after this one in the queue's order and filters (the
    current one counts as shown even when it no longer matches: "not started" after its
    first save)."""
    query = _ordered(_visible(user, assignment.cycle_id), filters).with_only_columns(
        Nomination.id, Review.status, Nomination.specialty_id)
    shown = []
    for nomination_id, status, specialty_id in db.session.execute(query).all():
        state = status or ReviewState.NEW
        if nomination_id == assignment.nomination_id or (
                (not filters.status or state == filters.status)
                and (not filters.specialty or specialty_id == filters.specialty)):
            shown.append(nomination_id)
    if assignment.nomination_id not in shown:
        return Neighbours(None, None, 0, len(shown))
    at = shown.index(assignment.nomination_id)
    return Neighbours(shown[at - 1] if at > 0 else None,
                      shown[at + 1] if at + 1 < len(shown) else None, at + 1, len(shown))


# -- the dashboard section ----------------------------------------------------------------

def dashboard(user: User) -> dict[str, Any]:
    """The reviewer's pools with progress and deadline (a constant number of queries)."""
    pools = pools_of(user)
    progress = progress_by_cycle(user) if pools else {}
    waiting = waiting_by_cycle(user) if any(not p.terms_accepted for p in pools) else {}
    return {"pools": [(p, progress.get(p.cycle.id, Progress()), waiting.get(p.cycle.id, 0))
                      for p in pools]}


# -- the reviewer's own reviews (kept after the decisions are published) -------------------

@dataclass(frozen=True)
class OwnReview:
    review: Review
    label: str
    cycle: Cycle

    @property
    def state(self) -> str:
        return self.review.status


def _own(user: User) -> Select[Any]:
    return (policy.own_reviews(user)
            .add_columns(Nomination, Cycle, ReviewSetup)
            .join(Nomination, Nomination.id == Review.nomination_id)
            .join(Cycle, Cycle.id == Review.cycle_id)
            .outerjoin(ReviewSetup, ReviewSetup.cycle_id == Review.cycle_id))


def own_reviews(user: User) -> list[OwnReview]:
    """Every review the reviewer wrote, the latest cycle first, named blind-safe."""
    rows = db.session.execute(_own(user).order_by(Cycle.opens_at.desc(), Cycle.id.desc(),
                                                  Nomination.reference)).all()
    return [OwnReview(r, candidate_label(n, s), c) for r, n, c, s in rows]


def own_review_or_404(user: User, review_id: int) -> OwnReview:
    row = db.session.execute(_own(user).where(Review.id == review_id)).first()
    if row is None:
        raise NotYours()
    review, nomination, cycle, setup = row
    return OwnReview(review, candidate_label(nomination, setup), cycle)
