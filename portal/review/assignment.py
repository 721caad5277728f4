"""The automatic assignment of a cycle: the instance from the database, a preview, apply.

1. `preview(cycle, actor, replace_unstarted=...)` runs the hooks registered to run before
   an assignment (the automatic conflicts of interest are refreshed there), builds the
   instance (portal.review.solver) from the cycle's active pool, its reviewable
   nominations, their assignments and conflicts, solves it and describes the result:
   what changes per reviewer, the load table, the share of reviews matched by specialty,
   the nominations that cannot get enough reviewers and why, the review graph's
   components. It carries a signed token with a fingerprint of the instance and a digest
   of the plan.
2. `apply(cycle, token, actor)` builds and solves again under the cycle's lock. If the
   fingerprint or the plan differ (assignments, conflicts, the pool or the settings changed
   in between), it refuses (409) and staff run the preview again; otherwise it writes the
   plan in the request's one transaction: new assignments (source "auto"), reactivated
   ones, replaced ones removed, the audit record, the nominations moved to "under review",
   and one mail per reviewer whose queue changed.

What is kept: every started or submitted review's assignment, and every other active
assignment unless staff choose "replace unstarted" (then the solver may keep or replace
those). Kept assignments count against loads and wanted numbers. A pair the reviewer
declined or staff removed by hand is never added back automatically (staff can, by hand).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import exists, insert, select, update

from portal.accounts.models import Role, User, UserRole
from portal.audit.services import record
from portal.cycles.models import Cycle, Specialty
from portal.db import rowcount, utcnow
from portal.errors import Conflict, Refused
from portal.extensions import db
from portal.lifecycle import STAFF
from portal.nominations import workflow
from portal.nominations.lifecycle import NOMINATION, NominationState
from portal.nominations.models import Nomination
from portal.review import solver
from portal.review.assign_mails import notify_queues
from portal.review.lifecycle import ASSIGNMENT, LIVE_ASSIGNMENTS, ReviewState
from portal.review.models import (
    Assignment,
    AssignmentStatus,
    ConflictStatus,
    EndedBy,
    PoolMember,
    Review,
    ReviewSetup,
)
from portal.review.models import Conflict as ConflictRow
from portal.review.policy import REVIEWED_STATES, blocking_conflict

# Active assignments on these nominations count in a reviewer's load: the reviewed states,
# and a nomination returned for changes (it comes back when resubmitted).
LOAD_STATES = REVIEWED_STATES | {NominationState.RETURNED}
# Pairs the automatic assignment may make active again: ended by itself or by the portal.
READDABLE = frozenset({EndedBy.AUTO, EndedBy.SYSTEM})

# Work run before every preview and apply, with the cycle: the conflicts area refreshes
# the automatic conflicts of interest here (portal.review.conflicts registers it).
BEFORE_ASSIGNMENT: list[Callable[[Cycle], object]] = []


def register_before_assignment(hook: Callable[[Cycle], object]) -> None:
    if hook not in BEFORE_ASSIGNMENT:
        BEFORE_ASSIGNMENT.append(hook)


class AssignmentError(Refused):
    """A refused assignment change; its message is shown as it is."""


STALE = _l("Assignments, conflicts of interest, the reviewer pool or the review settings "
           "changed since this preview was made. Run the preview again.")
EXPIRED = _l("This preview is too old. Run the preview again.")

REASON_TEXTS: dict[str, LazyString] = {
    solver.POOL_TOO_SMALL: _l("The pool has fewer reviewers than reviews wanted."),
    solver.CONFLICTS: _l("Too few reviewers are free of a conflict of interest (or have not "
                         "declined it)."),
    solver.CAPACITY: _l("The reviewers who could review it have reached their load limits."),
}
EVERYONE_CONFLICTED = _l("Every reviewer of the pool has a conflict of interest with it.")


def setup_of(cycle_id: int) -> ReviewSetup:
    """The cycle's review settings; defaults (not saved) when none were made yet."""
    setup = db.session.scalar(select(ReviewSetup).where(ReviewSetup.cycle_id == cycle_id))
    return setup or ReviewSetup(cycle_id=cycle_id, reviews_wanted=3, default_load=15,
                                blind_fields=[])


def limit_of(member_limit: int | None, setup: ReviewSetup) -> int:
    return member_limit if member_limit is not None else setup.default_load


def lock_cycle(cycle: Cycle) -> None:
    """Serialize assignment changes of one cycle (PostgreSQL: the cycle's row lock;
    SQLite: writing transactions hold the database's write lock already)."""
    db.session.execute(select(Cycle.id).where(Cycle.id == cycle.id).with_for_update())


# -- the instance ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    id: int
    reference: str
    name: str
    state: str
    specialty: str  # code, "" when none


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    limit: int
    specialties: tuple[str, ...]  # codes


@dataclass(frozen=True)
class Held:
    """An assignment row of the cycle, with what the assignment needs of it."""

    id: int
    nomination_id: int
    reviewer_id: int
    status: str
    ended_by: str
    review: str  # ReviewState: new, draft, submitted
    nomination_state: str

    @property
    def started(self) -> bool:
        return self.review != ReviewState.NEW


@dataclass
class Built:
    cycle: Cycle
    setup: ReviewSetup
    replace_unstarted: bool
    nominations: list[Candidate]
    members: list[Member]
    kept: list[Held]  # count against loads and wanted numbers
    replaceable: list[Held]  # active, unstarted: the solver keeps or replaces them
    readdable: dict[tuple[int, int], Held]  # ended pairs the solver may make active again
    closed: list[Held]  # declined, or removed by staff: never added back automatically
    held_back: list[Held]  # active but blocked by a conflict, or of a member who left
    blocked: set[tuple[int, int]]  # (nomination id, reviewer id) kept apart by a conflict
    specialty_names: dict[str, str]
    instance: solver.Instance
    fingerprint: str
    # Reviews each nomination keeps (the instance's order).
    kept_per_nomination: solver.IntArray = field(
        repr=False, default_factory=lambda: np.zeros(0, dtype=np.int64))


def build(cycle: Cycle, *, replace_unstarted: bool = False) -> Built:
    """The solver's instance for the cycle, from six queries."""
    setup = setup_of(cycle.id)
    specialty_names = dict(db.session.execute(select(Specialty.code, Specialty.name).where(
        Specialty.cycle_id == cycle.id)).tuples().all())
    nominations = [Candidate(row.id, row.reference, row.name, row.state, row.code or "")
                   for row in db.session.execute(
        select(Nomination.id, Nomination.reference, Nomination.state, Specialty.code,
               (Nomination.given_names + " " + Nomination.family_name).label("name"))
        .outerjoin(Specialty, Specialty.id == Nomination.specialty_id)
        .where(Nomination.cycle_id == cycle.id, Nomination.state.in_(REVIEWED_STATES))
        .order_by(Nomination.id))]
    members = [Member(row.user_id, row.name, limit_of(row.load_limit, setup),
                      tuple(sorted(row.specialties or [])))
               for row in db.session.execute(
        select(PoolMember.user_id, PoolMember.load_limit, PoolMember.specialties, User.name)
        .join(User, User.id == PoolMember.user_id)
        .where(PoolMember.cycle_id == cycle.id, PoolMember.active.is_(True),
               User.active.is_(True),
               exists().where(UserRole.user_id == User.id,
                              UserRole.role == str(Role.REVIEWER)))
        .order_by(User.name, User.id))]
    rows = [Held(row.id, row.nomination_id, row.reviewer_id, row.status, row.ended_by or "",
                 row.review_status or ReviewState.NEW, row.state)
            for row in db.session.execute(
        select(Assignment.id, Assignment.nomination_id, Assignment.reviewer_id,
               Assignment.status, Assignment.ended_by, Review.status.label("review_status"),
               Nomination.state)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.cycle_id == cycle.id)
        .order_by(Assignment.id))]
    blocked = _blocked_pairs(cycle)
    built = Built(cycle=cycle, setup=setup, replace_unstarted=replace_unstarted,
                  nominations=nominations, members=members, kept=[], replaceable=[],
                  readdable={}, closed=[], held_back=[], blocked=blocked,
                  specialty_names=specialty_names,
                  instance=solver.Instance.build([], [], [], np.zeros((0, 0)), []),
                  fingerprint="")
    _classify(built, rows)
    _arrays(built)
    built.fingerprint = _fingerprint(built, rows)
    return built


def _blocked_pairs(cycle: Cycle) -> set[tuple[int, int]]:
    """(nomination, reviewer) pairs of the cycle a conflict keeps apart: the one rule of
    portal.review.policy, asked for the pool's reviewers who have any conflict."""
    with_conflicts = select(ConflictRow.reviewer_id).where(
        ConflictRow.cycle_id == cycle.id, ConflictRow.status != ConflictStatus.DISMISSED)
    return {(nomination_id, reviewer_id) for nomination_id, reviewer_id in db.session.execute(
        select(Nomination.id, PoolMember.user_id)
        .join(PoolMember, PoolMember.cycle_id == Nomination.cycle_id)
        .where(Nomination.cycle_id == cycle.id, Nomination.state.in_(LOAD_STATES),
               PoolMember.user_id.in_(with_conflicts),
               blocking_conflict(PoolMember.user_id))).tuples()}


def _classify(built: Built, rows: list[Held]) -> None:
    pool = {m.user_id for m in built.members}
    for held in rows:
        pair = (held.nomination_id, held.reviewer_id)
        live = held.status in LIVE_ASSIGNMENTS
        if live and held.nomination_state in LOAD_STATES:
            if held.reviewer_id not in pool or pair in built.blocked:
                built.held_back.append(held)
            elif built.replace_unstarted and not held.started \
                    and held.nomination_state in REVIEWED_STATES:
                built.replaceable.append(held)
            else:
                built.kept.append(held)
        elif held.status == AssignmentStatus.REMOVED and held.ended_by in READDABLE:
            built.readdable[pair] = held
        elif not live:
            built.closed.append(held)


def _arrays(built: Built) -> None:
    n_index = {c.id: i for i, c in enumerate(built.nominations)}
    r_index = {m.user_id: j for j, m in enumerate(built.members)}
    n_count, r_count = len(n_index), len(r_index)
    wanted = built.setup.reviews_wanted
    allowed = np.ones((n_count, r_count), dtype=bool)
    kept_n = np.zeros(n_count, dtype=np.int64)
    base = np.zeros(r_count, dtype=np.int64)
    kept_pairs = []
    for held in built.kept:
        j = r_index[held.reviewer_id]
        base[j] += 1
        i = n_index.get(held.nomination_id)
        if i is not None:  # a returned nomination counts in the load only
            kept_n[i] += 1
            allowed[i, j] = False
            kept_pairs.append((i, j))
    # One review per pair, no conflict: a pair with a row is assignable only when it is
    # replaceable or re-addable.
    shut = list(built.blocked)
    shut += [(h.nomination_id, h.reviewer_id) for h in built.held_back + built.closed]
    for n_id, r_id in shut:
        row, col = n_index.get(n_id), r_index.get(r_id)
        if row is not None and col is not None:
            allowed[row, col] = False
    specialty = np.array([c.specialty for c in built.nominations] or [""], dtype=object)
    match = np.zeros((n_count, r_count), dtype=bool)
    for j, m in enumerate(built.members):
        if m.specialties and n_count:
            match[:, j] = np.isin(specialty[:n_count], list(m.specialties)) \
                & (specialty[:n_count] != "")
    limits = np.array([m.limit for m in built.members], dtype=np.int64)
    built.kept_per_nomination = kept_n
    built.instance = solver.Instance.build(
        need=np.maximum(wanted - kept_n, 0), capacity=np.maximum(limits - base, 0),
        base_load=base, allowed=allowed, match=match,
        kept=np.array(kept_pairs, dtype=np.int64).reshape(-1, 2))


def _fingerprint(built: Built, rows: list[Held]) -> str:
    """What the plan depends on; a change in any of it makes a preview stale."""
    facts = {
        "wanted": built.setup.reviews_wanted, "replace": built.replace_unstarted,
        "nominations": [(c.id, c.state, c.specialty) for c in built.nominations],
        "members": [(m.user_id, m.limit, m.specialties) for m in built.members],
        # Whether a review started matters only when unstarted ones may be replaced.
        "assignments": [(h.id, h.nomination_id, h.reviewer_id, h.status, h.ended_by,
                         h.started if built.replace_unstarted else None,
                         h.nomination_state in LOAD_STATES) for h in rows],
        "blocked": sorted(built.blocked),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


# -- the plan -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    built: Built
    solution: solver.Solution
    add: list[tuple[int, int]]  # (nomination id, reviewer id): new assignment rows
    reactivate: list[Held]  # removed by a run or by the portal, made active again
    remove: list[Held]  # unstarted ones replaced ("replace unstarted")
    digest: str

    def pair_ids(self, i: int, j: int) -> tuple[int, int]:
        return self.built.nominations[i].id, self.built.members[j].user_id


def make_plan(cycle: Cycle, *, replace_unstarted: bool = False) -> Plan:
    """Refresh what must be fresh (the hooks), build the instance, solve it."""
    for hook in BEFORE_ASSIGNMENT:
        hook(cycle)
    built = build(cycle, replace_unstarted=replace_unstarted)
    solution = solver.solve(built.instance)
    chosen = {(built.nominations[i].id, built.members[j].user_id)
              for i, j in solution.pairs.tolist()}
    replaceable = {(h.nomination_id, h.reviewer_id): h for h in built.replaceable}
    add = sorted(p for p in chosen if p not in replaceable and p not in built.readdable)
    reactivate = [built.readdable[p] for p in sorted(chosen) if p in built.readdable]
    remove = [h for p, h in sorted(replaceable.items()) if p not in chosen]
    digest = hashlib.sha256(json.dumps(
        [add, [h.id for h in reactivate], [h.id for h in remove]]).encode()).hexdigest()
    return Plan(built, solution, add, reactivate, remove, digest)


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.secret_key), salt="review-assignment")


def token_of(plan: Plan) -> str:
    """What the preview page hands back to apply: the instance's fingerprint and the
    plan's digest, signed (the plan itself is computed again, identically)."""
    return _signer().dumps({"c": plan.built.cycle.id, "r": plan.built.replace_unstarted,
                            "f": plan.built.fingerprint, "d": plan.digest})


def _claims(cycle: Cycle, token: str) -> dict[str, object]:
    max_age = int(current_app.config["REVIEW_PREVIEW_HOURS"]) * 3600
    try:
        claims = _signer().loads(token or "", max_age=max_age)
    except SignatureExpired as exc:
        raise Conflict(EXPIRED, code="expired") from exc
    except BadSignature as exc:
        raise AssignmentError(EXPIRED, code="bad_token") from exc
    if not isinstance(claims, dict) or claims.get("c") != cycle.id:
        raise AssignmentError(EXPIRED, code="bad_token")
    return claims


@dataclass(frozen=True)
class Applied:
    added: int
    reactivated: int
    removed: int
    moved: int  # nominations put under review
    mailed: int


def apply(cycle: Cycle, token: str, actor: User) -> Applied:
    """Write the previewed plan, or refuse (409) if anything it depends on changed."""
    claims = _claims(cycle, token)
    lock_cycle(cycle)
    plan = make_plan(cycle, replace_unstarted=bool(claims.get("r")))
    if plan.built.fingerprint != claims.get("f") or plan.digest != claims.get("d"):
        raise Conflict(STALE, code="stale")
    return _write(plan, actor)


def assign_now(cycle: Cycle, actor: User, *, replace_unstarted: bool = False) -> Applied:
    """Compute and write the automatic assignment at once, without a preview (the demo
    data, a command)."""
    lock_cycle(cycle)
    return _write(make_plan(cycle, replace_unstarted=replace_unstarted), actor)


def _write(plan: Plan, actor: User) -> Applied:
    """The plan's rows, its audit record, the nominations' move and the mails."""
    cycle = plan.built.cycle
    now = utcnow()
    if plan.remove:
        ASSIGNMENT.check(AssignmentStatus.ACTIVE, "remove", {STAFF})
        result = db.session.execute(
            update(Assignment)
            .where(Assignment.id.in_([h.id for h in plan.remove]),
                   Assignment.status.in_(ASSIGNMENT.sources("remove")),
                   ~exists().where(Review.assignment_id == Assignment.id))
            .values(status=AssignmentStatus.REMOVED, ended_at=now, ended_by=EndedBy.AUTO)
            .execution_options(synchronize_session=False))
        if rowcount(result) != len(plan.remove):
            raise Conflict(STALE, code="race")
    if plan.reactivate:
        ASSIGNMENT.check(AssignmentStatus.REMOVED, "reassign", {STAFF})
        result = db.session.execute(
            update(Assignment)
            .where(Assignment.id.in_([h.id for h in plan.reactivate]),
                   Assignment.status.in_(ASSIGNMENT.sources("reassign")))
            .values(status=AssignmentStatus.ACTIVE, source="auto", ended_at=None,
                    ended_by="", notified_at=None)
            .execution_options(synchronize_session=False))
        if rowcount(result) != len(plan.reactivate):
            raise Conflict(STALE, code="race")
    if plan.add:
        db.session.execute(insert(Assignment), [
            {"cycle_id": cycle.id, "nomination_id": n, "reviewer_id": r,
             "status": AssignmentStatus.ACTIVE, "source": "auto", "created_by_id": actor.id,
             "created_at": now, "changed_since_review": []}
            for n, r in plan.add])
    removed: dict[int, int] = {}
    for held in plan.remove:
        removed[held.reviewer_id] = removed.get(held.reviewer_id, 0) + 1
    record("review.assignment.applied", actor=actor, object_type="cycle", object_id=cycle.id,
           details={"added": [list(p) for p in plan.add],
                    "reactivated": [h.id for h in plan.reactivate],
                    "removed": [h.id for h in plan.remove],
                    "replace_unstarted": plan.built.replace_unstarted,
                    "unfilled": int(plan.solution.unfilled.sum()),
                    "components": len(plan.solution.components)})
    moved = start_reviews(cycle, actor)
    mailed = notify_queues(cycle, actor, removed)
    return Applied(len(plan.add), len(plan.reactivate), len(plan.remove), moved, mailed)


def start_reviews(cycle: Cycle, actor: User) -> int:
    """Put every submitted or resubmitted nomination of the cycle that has an active
    assignment under review (the nominations' own move, as staff)."""
    sources = NOMINATION.sources("start_review", STAFF)
    nominations = db.session.scalars(
        select(Nomination).where(
            Nomination.cycle_id == cycle.id, Nomination.state.in_(sources),
            exists().where(Assignment.nomination_id == Nomination.id,
                           Assignment.status == AssignmentStatus.ACTIVE))
        .order_by(Nomination.id)).all()
    for nomination in nominations:
        workflow.mark_under_review(nomination, actor)
    return len(nominations)
