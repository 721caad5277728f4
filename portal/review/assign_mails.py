"""The mail that tells a reviewer their queue is ready (or changed): one per reviewer and
assignment run, in the reviewer's language, through the outbox.

It names no candidate, institution or file: counts, the cycle, the review deadline and
the link to the queue only, so it carries nothing a blind review hides.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from portal.accounts.models import User
from portal.accounts.services import external_url
from portal.audit.services import record
from portal.cycles.models import Cycle
from portal.db import utcnow
from portal.extensions import db
from portal.i18n import program_timezone
from portal.nominations.models import Nomination
from portal.notify.services import queue_mail
from portal.review.models import Assignment, AssignmentStatus, PoolMember, ReviewSetup
from portal.review.policy import REVIEWED_STATES

# The reviewer's queue (part of the reviewer's workspace); the dashboard until it exists.
QUEUE_ENDPOINT = "review.queue"


def queue_link() -> str:
    """The link to the reviewer's queue, also outside a request (a command, a job)."""
    endpoint = QUEUE_ENDPOINT if QUEUE_ENDPOINT in current_app.view_functions \
        else "main.dashboard"
    if has_request_context():
        return external_url(endpoint)
    base = current_app.config["BASE_URL"].rstrip("/")
    # A writing method, so the SQLite begin hook keeps its write lock semantics.
    with current_app.test_request_context("/", base_url=base, method="POST"):
        return external_url(endpoint)


def unnotified(cycle: Cycle) -> dict[int, list[int]]:
    """Reviewer id -> ids of their active assignments nobody told them about yet."""
    found: dict[int, list[int]] = {}
    for reviewer_id, assignment_id in db.session.execute(
            select(Assignment.reviewer_id, Assignment.id)
            .join(Nomination, Nomination.id == Assignment.nomination_id)
            .where(Assignment.cycle_id == cycle.id,
                   Assignment.status == AssignmentStatus.ACTIVE,
                   Assignment.notified_at.is_(None),
                   Nomination.state.in_(REVIEWED_STATES))
            .order_by(Assignment.id)).tuples():
        found.setdefault(reviewer_id, []).append(assignment_id)
    return found


def notify_queues(cycle: Cycle, actor: User | None,
                  removed: Mapping[int, int] | None = None, *,
                  only: Collection[int] | None = None) -> int:
    """One mail to every reviewer of the cycle with dossiers they were not told about,
    and to those who lost some (`removed`: reviewer id -> how many); `only`: just these
    reviewers. Returns the number of mails."""
    removed = dict(removed or {})
    fresh = unnotified(cycle)
    if only is not None:
        fresh = {r: ids for r, ids in fresh.items() if r in only}
        removed = {r: n for r, n in removed.items() if r in only}
    reviewer_ids = sorted(set(fresh) | {r for r, n in removed.items() if n})
    if not reviewer_ids:
        return 0
    users = db.session.scalars(select(User).where(User.id.in_(reviewer_ids),
                                                  User.active.is_(True))).all()
    totals = dict(db.session.execute(
        select(Assignment.reviewer_id, func.count(Assignment.id))
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .where(Assignment.cycle_id == cycle.id, Assignment.reviewer_id.in_(reviewer_ids),
               Assignment.status == AssignmentStatus.ACTIVE,
               Nomination.state.in_(REVIEWED_STATES))
        .group_by(Assignment.reviewer_id)).tuples().all())
    accepted = set(db.session.scalars(
        select(PoolMember.user_id).where(PoolMember.cycle_id == cycle.id,
                                         PoolMember.user_id.in_(reviewer_ids),
                                         PoolMember.terms_accepted_at.is_not(None))))
    closes_at = db.session.scalar(
        select(ReviewSetup.closes_at).where(ReviewSetup.cycle_id == cycle.id))
    link = queue_link()
    for user in sorted(users, key=lambda u: u.id):
        queue_mail(
            user.email, "review_queue_ready",
            subject=_l("Your review queue for %(cycle)s", cycle=cycle.name),
            language=user.language, name=user.name, cycle=cycle,
            added=len(fresh.get(user.id, [])), removed=removed.get(user.id, 0),
            total=totals.get(user.id, 0), closes_at=closes_at,
            zone=user.timezone or program_timezone(), terms_pending=user.id not in accepted,
            link=link)
    ids = [i for r in users for i in fresh.get(r.id, [])]
    if ids:
        db.session.execute(update(Assignment).where(Assignment.id.in_(ids))
                           .values(notified_at=utcnow())
                           .execution_options(synchronize_session=False))
    record("review.queues_notified", actor=actor, object_type="cycle", object_id=cycle.id,
           details={"reviewers": [u.id for u in users]})
    return len(users)
