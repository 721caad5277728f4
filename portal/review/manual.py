"""Assignments by hand: staff add or remove a reviewer on a nomination, and the reviewers
who could replace one (no conflict, spare load, specialty first).

Adding is refused for a reviewer with a conflict of interest (always: there is no
override) and for one at their load limit (unless staff say explicitly to go over it).
Removing keeps a started review: the assignment becomes "removed", the review stays for
staff. Every change takes the cycle's lock, as the automatic assignment does, so loads
are counted with nothing moving underneath.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select, update

from portal.accounts.models import Role, User, UserRole
from portal.audit.services import record
from portal.cycles.models import Cycle, Specialty
from portal.db import rowcount, utcnow
from portal.errors import Conflict
from portal.extensions import db
from portal.lifecycle import STAFF
from portal.nominations import workflow
from portal.nominations.lifecycle import NOMINATION
from portal.nominations.models import Nomination
from portal.review.assign_instance import LOAD_STATES, READDABLE, limit_of, setup_of
from portal.review.assign_mails import notify_queues
from portal.review.assignment import AssignmentError, lock_cycle
from portal.review.lifecycle import ASSIGNMENT
from portal.review.models import Assignment, AssignmentStatus, EndedBy, PoolMember, Review
from portal.review.policy import REVIEWED_STATES, blocking_conflict, conflicted

ALREADY = _l("This reviewer is already assigned to this nomination.")
REMOVED_ALREADY = _l("This assignment has already ended.")


def loads(cycle_id: int, reviewer_ids: list[int] | None = None) -> dict[int, int]:
    """Reviewer id -> live assignments counted in their load (one query)."""
    query = (select(Assignment.reviewer_id, func.count(Assignment.id))
             .join(Nomination, Nomination.id == Assignment.nomination_id)
             .where(Assignment.cycle_id == cycle_id,
                    Assignment.status == AssignmentStatus.ACTIVE,
                    Nomination.state.in_(LOAD_STATES))
             .group_by(Assignment.reviewer_id))
    if reviewer_ids is not None:
        query = query.where(Assignment.reviewer_id.in_(reviewer_ids))
    return dict(db.session.execute(query).tuples().all())


def pool_member(cycle_id: int, user_id: int) -> PoolMember | None:
    """The active pool member of the cycle who holds the reviewer role, if any."""
    return db.session.scalar(
        select(PoolMember).join(User, User.id == PoolMember.user_id)
        .where(PoolMember.cycle_id == cycle_id, PoolMember.user_id == user_id,
               PoolMember.active.is_(True), User.active.is_(True),
               exists().where(UserRole.user_id == User.id,
                              UserRole.role == str(Role.REVIEWER))))


def add(nomination: Nomination, reviewer: User, actor: User, *, over_limit: bool = False,
        tell: bool = True) -> Assignment:
    """Assign `reviewer` to `nomination` by hand (or add them back)."""
    cycle = db.session.get(Cycle, nomination.cycle_id)
    assert cycle is not None  # a foreign key
    lock_cycle(cycle)
    db.session.refresh(nomination)
    if nomination.state not in REVIEWED_STATES:
        raise AssignmentError(_l("Only submitted nominations and nominations under review "
                                 "can be given to reviewers."), code="state")
    member = pool_member(cycle.id, reviewer.id)
    if member is None:
        raise AssignmentError(_l("%(name)s is not in this cycle's reviewer pool.",
                                 name=reviewer.name), code="not_in_pool")
    if conflicted(reviewer.id, nomination):
        raise AssignmentError(_l("%(name)s has a conflict of interest with this nomination "
                                 "and cannot review it.", name=reviewer.name),
                              code="conflict")
    existing = db.session.scalar(select(Assignment).where(
        Assignment.nomination_id == nomination.id, Assignment.reviewer_id == reviewer.id))
    if existing is not None and existing.status == AssignmentStatus.ACTIVE:
        raise Conflict(ALREADY, code="already_done")
    limit = limit_of(member.load_limit, setup_of(cycle.id))
    load = loads(cycle.id, [reviewer.id]).get(reviewer.id, 0)
    if load >= limit and not over_limit:
        raise AssignmentError(_l(
            "%(name)s has reached their load limit (%(load)d of %(limit)d). Choose "
            "\"over the load limit\" to assign them anyway.", name=reviewer.name,
            load=load, limit=limit), code="load_limit")
    if existing is None:
        assignment = Assignment(cycle_id=cycle.id, nomination_id=nomination.id,
                                reviewer_id=reviewer.id, status=AssignmentStatus.ACTIVE,
                                source="manual", created_by_id=actor.id)
        db.session.add(assignment)
        db.session.flush()
    else:
        assignment = existing
        ASSIGNMENT.check(existing.status, "reassign", {STAFF}, done=ALREADY)
        result = db.session.execute(
            update(Assignment)
            .where(Assignment.id == existing.id,
                   Assignment.status.in_(ASSIGNMENT.sources("reassign")))
            .values(status=AssignmentStatus.ACTIVE, source="manual", ended_at=None,
                    ended_by="", notified_at=None, declined_reason="")
            .execution_options(synchronize_session=False))
        if rowcount(result) != 1:
            raise Conflict(ALREADY, code="race")
        db.session.refresh(existing)
    record("review.assignment.added", actor=actor, object_type="assignment",
           object_id=assignment.id,
           details={"nomination": nomination.reference, "reviewer_id": reviewer.id,
                    "added_back": existing is not None,
                    "over_limit": load >= limit})
    if nomination.state in NOMINATION.sources("start_review", STAFF):
        workflow.mark_under_review(nomination, actor)
    if tell:
        notify_queues(cycle, actor, only={reviewer.id})
    return assignment


def remove(assignment: Assignment, actor: User) -> bool:
    """Take the reviewer off the nomination; returns whether a started review stays (for
    staff; it leaves the reviewer's queue with the dossier)."""
    cycle = db.session.get(Cycle, assignment.cycle_id)
    assert cycle is not None
    lock_cycle(cycle)
    db.session.refresh(assignment)
    ASSIGNMENT.check(assignment.status, "remove", {STAFF}, done=REMOVED_ALREADY,
                     refusal=REMOVED_ALREADY)
    result = db.session.execute(
        update(Assignment)
        .where(Assignment.id == assignment.id,
               Assignment.status.in_(ASSIGNMENT.sources("remove")))
        .values(status=AssignmentStatus.REMOVED, ended_at=utcnow(), ended_by=EndedBy.STAFF)
        .execution_options(synchronize_session=False))
    if rowcount(result) != 1:
        raise Conflict(REMOVED_ALREADY, code="race")
    db.session.refresh(assignment)
    started = db.session.scalar(
        select(exists().where(Review.assignment_id == assignment.id))) or False
    record("review.assignment.removed", actor=actor, object_type="assignment",
           object_id=assignment.id,
           details={"nomination_id": assignment.nomination_id,
                    "reviewer_id": assignment.reviewer_id, "review_kept": started})
    return started


@dataclass(frozen=True)
class Candidate:
    """A pool member who could review a nomination now."""

    user: User
    load: int
    limit: int
    matches: bool  # the nomination's specialty is among theirs
    specialties: list[str]  # names

    @property
    def spare(self) -> int:
        return self.limit - self.load


def candidates(nomination: Nomination) -> list[Candidate]:
    """Every active pool member who may be given this nomination: no conflict of interest,
    not assigned to it, and not one the nomination was taken from by hand or who declined
    it; specialty matches first, then the lightest loads. Three queries."""
    setup = setup_of(nomination.cycle_id)
    names = dict(db.session.execute(select(Specialty.code, Specialty.name).where(
        Specialty.cycle_id == nomination.cycle_id)).tuples().all())
    code = next((c for c, _n in db.session.execute(
        select(Specialty.code, Specialty.id).where(
            Specialty.id == nomination.specialty_id)).tuples()), None)
    # Assigned already, or ended in a way only staff's own hand undoes.
    taken = select(Assignment.reviewer_id).where(
        Assignment.nomination_id == nomination.id,
        or_(Assignment.status == AssignmentStatus.ACTIVE,
            Assignment.ended_by.not_in(READDABLE)))
    rows = db.session.execute(
        select(PoolMember, User)
        .join(User, User.id == PoolMember.user_id)
        .join(Nomination, Nomination.id == nomination.id)
        .where(PoolMember.cycle_id == nomination.cycle_id, PoolMember.active.is_(True),
               User.active.is_(True),
               exists().where(UserRole.user_id == User.id,
                              UserRole.role == str(Role.REVIEWER)),
               PoolMember.user_id.not_in(taken),
               ~blocking_conflict(PoolMember.user_id))).tuples().all()
    counted = loads(nomination.cycle_id, [u.id for _m, u in rows])
    found = [Candidate(user=u, load=counted.get(u.id, 0),
                       limit=limit_of(m.load_limit, setup),
                       matches=code is not None and code in (m.specialties or []),
                       specialties=[names.get(c, c) for c in m.specialties or []])
             for m, u in rows]
    return sorted(found, key=lambda c: (not c.matches, c.load, c.user.name, c.user.id))


def suggest_replacements(nomination: Nomination, n: int = 5) -> list[Candidate]:
    """Reviewers who could replace one on this nomination (where a reviewer declined or
    declared a conflict): no conflict, spare load, specialty first."""
    return [c for c in candidates(nomination) if c.spare > 0][:n]
