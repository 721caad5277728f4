"""Progress of a cycle's review for staff, and reminders to reviewers.

Per reviewer: assigned (active assignments to dossiers under review), started (a draft),
submitted, overdue (not submitted after review closed). Per nomination: reviews
submitted (and counted) of the number wanted. Both in a constant number of queries.

Reminders go to reviewers with work left, in their language (outbox): staff remind one
reviewer or every late one (ReviewReminder kind "manual:<minute>", so a double click
mails once), and the periodic tick mails everyone with work left REVIEW_REMINDER_DAYS
before review closes (7 and 1 by default), once each: the UNIQUE (cycle, reviewer,
kind) row is written in a savepoint before the mail, so two ticks at once mail once.
Mails carry counts and the deadline, never a candidate.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from portal.accounts.models import User
from portal.accounts.services import external_url
from portal.audit.services import record
from portal.cycles.models import Cycle
from portal.db import utcnow
from portal.errors import Conflict as ConflictError
from portal.errors import Refused
from portal.extensions import db
from portal.institutions.models import Institution
from portal.listing import ListFilters, Page, choice, page_of
from portal.nominations.models import Nomination
from portal.notify.services import queue_mail
from portal.review.models import (
    Assignment,
    AssignmentStatus,
    PoolMember,
    Review,
    ReviewReminder,
    ReviewSetup,
    ReviewStatus,
)
from portal.review.policy import REVIEWED_STATES
from portal.review.setup import setup_of
from portal.transaction import run_unit

log = logging.getLogger(__name__)


class ReminderError(Refused):
    """A refused reminder; the message is shown to staff."""


# -- per reviewer -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewerProgress:
    user: User
    member: PoolMember | None
    assigned: int
    started: int  # drafts
    submitted: int
    overdue: int  # not submitted after review closed
    last_reminded: datetime | None

    @property
    def not_started(self) -> int:
        return self.assigned - self.started - self.submitted

    @property
    def left(self) -> int:
        return self.assigned - self.submitted


def _work(cycle_id: int) -> dict[int, tuple[int, int, int]]:
    """reviewer id -> (assigned, drafts, submitted) over active assignments to dossiers
    under review."""
    rows = db.session.execute(
        select(Assignment.reviewer_id, func.count(),
               func.sum(case((Review.status == ReviewStatus.DRAFT, 1), else_=0)),
               func.sum(case((Review.status == ReviewStatus.SUBMITTED, 1), else_=0)))
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.cycle_id == cycle_id, Assignment.status == AssignmentStatus.ACTIVE,
               Nomination.state.in_(REVIEWED_STATES))
        .group_by(Assignment.reviewer_id)).all()
    return {r: (int(a), int(d or 0), int(s or 0)) for r, a, d, s in rows}


def reviewers_progress(cycle: Cycle, now: datetime | None = None) -> list[ReviewerProgress]:
    """Every pool member and every other assigned reviewer, the most work left first
    (four queries)."""
    setup = setup_of(cycle.id)
    closed = setup is not None and setup.is_closed(now)
    work = _work(cycle.id)
    members = {m.user_id: (m, u) for m, u in db.session.execute(
        select(PoolMember, User).join(User, User.id == PoolMember.user_id)
        .where(PoolMember.cycle_id == cycle.id)).all()}
    others = set(work) - set(members)
    extra = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_(others)))} if others else {}
    reminded = dict(db.session.execute(
        select(ReviewReminder.reviewer_id, func.max(ReviewReminder.sent_at))
        .where(ReviewReminder.cycle_id == cycle.id)
        .group_by(ReviewReminder.reviewer_id)).tuples().all())
    rows = []
    for user_id in set(members) | others:
        member, user = members.get(user_id, (None, extra.get(user_id)))
        if user is None:
            continue
        assigned, drafts, submitted = work.get(user_id, (0, 0, 0))
        rows.append(ReviewerProgress(
            user=user, member=member, assigned=assigned, started=drafts,
            submitted=submitted, overdue=assigned - submitted if closed else 0,
            last_reminded=reminded.get(user_id)))
    return sorted(rows, key=lambda r: (-r.left, r.user.name, r.user.id))


@dataclass(frozen=True)
class Totals:
    assigned: int
    started: int
    submitted: int
    overdue: int
    late: int  # reviewers with work left


def totals(rows: list[ReviewerProgress]) -> Totals:
    return Totals(assigned=sum(r.assigned for r in rows), started=sum(r.started for r in rows),
                  submitted=sum(r.submitted for r in rows),
                  overdue=sum(r.overdue for r in rows),
                  late=sum(1 for r in rows if r.left > 0))


# -- per nomination -----------------------------------------------------------------------


@dataclass(frozen=True)
class NominationFilters(ListFilters):
    PER_PAGE = 50
    PER_PAGE_CHOICES = (50, 100)
    SORT_KEYS = ("reference", "submitted")
    DEFAULT_SORT = "submitted"

    show: str = ""  # "" every one, "short" fewer submitted than wanted, "done"

    @classmethod
    def parse(cls, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"show": choice(args.get("show"), ["short", "done"])}


@dataclass(frozen=True)
class NominationProgress:
    nomination: Nomination
    institution_name: str
    assigned: int
    started: int
    submitted: int
    wanted: int

    @property
    def short(self) -> bool:
        return self.submitted < self.wanted


def nominations_page(cycle: Cycle, f: NominationFilters) -> Page[NominationProgress]:
    """Nominations under review with reviews submitted of wanted (two queries a page)."""
    setup = setup_of(cycle.id)
    wanted = setup.reviews_wanted if setup else 3
    reviews = (select(Review.nomination_id.label("nomination_id"),
                      func.sum(case((Review.status == ReviewStatus.SUBMITTED, 1),
                                    else_=0)).label("submitted"),
                      func.sum(case((Review.status == ReviewStatus.DRAFT, 1),
                                    else_=0)).label("started"))
               .join(Assignment, Assignment.id == Review.assignment_id)
               .where(Review.cycle_id == cycle.id, Review.excluded_at.is_(None),
                      Assignment.status == AssignmentStatus.ACTIVE)
               .group_by(Review.nomination_id).subquery())
    active = (select(Assignment.nomination_id.label("nomination_id"),
                     func.count().label("assigned"))
              .where(Assignment.cycle_id == cycle.id,
                     Assignment.status == AssignmentStatus.ACTIVE)
              .group_by(Assignment.nomination_id).subquery())
    submitted = func.coalesce(reviews.c.submitted, 0)
    query = (select(Nomination, Institution.name, func.coalesce(active.c.assigned, 0),
                    func.coalesce(reviews.c.started, 0), submitted)
             .join(Institution, Institution.id == Nomination.institution_id)
             .outerjoin(reviews, reviews.c.nomination_id == Nomination.id)
             .outerjoin(active, active.c.nomination_id == Nomination.id)
             .where(Nomination.cycle_id == cycle.id, Nomination.state.in_(REVIEWED_STATES)))
    if f.show == "short":
        query = query.where(submitted < wanted)
    elif f.show == "done":
        query = query.where(submitted >= wanted)
    order: list[ColumnElement[Any] | InstrumentedAttribute[Any]]
    if f.sort_key == "reference":
        order = [Nomination.reference.desc() if f.descending else Nomination.reference]
    else:  # the fewest submitted first (most in need), unless descending
        order = [submitted.desc() if f.descending else submitted, Nomination.reference]
    page = page_of(query.order_by(*order, Nomination.id), f.page, f.size, scalars=False)
    items = [NominationProgress(n, name, int(a), int(s), int(done), wanted)
             for n, name, a, s, done in page.items]
    return Page(items=items, page=page.page, per_page=page.per_page, has_more=page.has_more,
                total=page.total)


# -- reminders ------------------------------------------------------------------------------


def reminder_days() -> list[int]:
    """REVIEW_REMINDER_DAYS ("7,1"): days before review closes, the latest first."""
    raw = str(current_app.config.get("REVIEW_REMINDER_DAYS", "7,1"))
    days = sorted({int(p) for p in raw.replace(";", ",").split(",") if p.strip().isdigit()
                   and 0 < int(p) <= 60})
    return days


def _link() -> str:
    """The reviewer's dashboard (their queue), also from the tick (no request there)."""
    if has_request_context():
        return external_url("review.queue")
    base = current_app.config["BASE_URL"].rstrip("/")
    with current_app.test_request_context("/", base_url=base, method="POST"):
        return external_url("review.queue")


def _mail(cycle: Cycle, setup: ReviewSetup | None, user: User, left: int, submitted: int,
          kind: str, link: str) -> None:
    queue_mail(
        user.email, "review_reminder",
        subject=_l("Review of %(cycle)s: %(n)d dossiers wait for your review",
                   cycle=cycle.name, n=left),
        language=user.language, name=user.name, cycle=cycle, left=left,
        submitted=submitted, assigned=left + submitted,
        closes_at=setup.closes_at if setup else None,
        zone=user.timezone or str(current_app.config["PROGRAM_TIMEZONE"]), kind=kind,
        link=link)


def _remind(cycle: Cycle, setup: ReviewSetup | None, user: User, left: int, submitted: int,
            kind: str, link: str, now: datetime) -> bool:
    """Write the reminder's row in a savepoint, then queue the mail; False when another
    run wrote the same row first."""
    try:
        with db.session.begin_nested():
            db.session.add(ReviewReminder(cycle_id=cycle.id, reviewer_id=user.id, kind=kind,
                                          sent_at=now, details={"left": left}))
    except IntegrityError:
        return False
    _mail(cycle, setup, user, left, submitted, kind, link)
    return True


def _remindable(row: ReviewerProgress) -> bool:
    """Work left, an active account, and (if in the pool) an active member."""
    return row.left > 0 and row.user.active and (row.member is None or row.member.active)


def manual_kind(now: datetime) -> str:
    return f"manual:{now:%Y%m%dT%H%M}"  # 20 characters: the column's width


def remind(cycle: Cycle, reviewer: User, actor: User | None, now: datetime | None = None,
           ) -> None:
    """Staff remind one reviewer who has work left."""
    now = now or utcnow()
    row = next((r for r in reviewers_progress(cycle, now) if r.user.id == reviewer.id), None)
    if row is None or not _remindable(row):
        raise ReminderError(_l("%(name)s has no review left to do.", name=reviewer.name))
    if not _remind(cycle, setup_of(cycle.id), reviewer, row.left, row.submitted,
                   manual_kind(now), _link(), now):
        raise ConflictError(_l("%(name)s was reminded a moment ago.", name=reviewer.name),
                            code="already_done")
    record("review.reminder_sent", actor=actor, object_type="cycle", object_id=cycle.id,
           details={"reviewers": [reviewer.id]})


def remind_late(cycle: Cycle, actor: User | None, now: datetime | None = None) -> int:
    """Staff remind every reviewer with work left; returns how many were mailed."""
    now = now or utcnow()
    setup = setup_of(cycle.id)
    link = _link()
    told = [r.user.id for r in reviewers_progress(cycle, now) if _remindable(r)
            and _remind(cycle, setup, r.user, r.left, r.submitted, manual_kind(now), link, now)]
    if told:
        record("review.reminder_sent", actor=actor, object_type="cycle", object_id=cycle.id,
               details={"reviewers": told})
    return len(told)


def due_kind(setup: ReviewSetup, now: datetime, days: list[int]) -> str | None:
    """The reminder due now: the nearest threshold already crossed ("1d" rather than
    "7d" when review settings were saved a day before the close)."""
    if setup.closes_at is None or not setup.is_open(now) \
            or setup.decisions_published_at is not None:
        return None
    left = setup.closes_at - now
    for n in days:  # the smallest first
        if left <= timedelta(days=n):
            return f"{n}d"
    return None


def _send_for_cycle(cycle_id: int, now: datetime, link: str) -> int:
    cycle = db.session.get(Cycle, cycle_id)
    setup = setup_of(cycle_id)
    kind = due_kind(setup, now, reminder_days()) if setup is not None else None
    if cycle is None or kind is None:
        return 0
    done = set(db.session.scalars(select(ReviewReminder.reviewer_id).where(
        ReviewReminder.cycle_id == cycle_id, ReviewReminder.kind == kind)))
    told = 0
    for row in reviewers_progress(cycle, now):
        if row.user.id in done or not _remindable(row):
            continue
        if _remind(cycle, setup, row.user, row.left, row.submitted, kind, link, now):
            told += 1
    return told


def send_due(now: datetime | None = None) -> int:
    """The periodic tick: the reminders due before review closes, each cycle in a unit
    of work of its own. Returns how many reviewers were mailed."""
    now = now or utcnow()
    days = reminder_days()
    if not days:
        return 0
    link = _link()
    cycle_ids = list(db.session.scalars(select(ReviewSetup.cycle_id).where(
        ReviewSetup.opens_at <= now, ReviewSetup.closes_at > now,
        ReviewSetup.closes_at <= now + timedelta(days=max(days)),
        ReviewSetup.decisions_published_at.is_(None)).order_by(ReviewSetup.cycle_id)))
    told = sum(run_unit(_send_for_cycle, cycle_id, now, link) for cycle_id in cycle_ids)
    log.info("review reminders: %d reviewers told", told)
    return told
