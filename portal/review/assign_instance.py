"""The automatic assignment's instance, built from the database: the cycle's active pool,
its reviewable nominations, their assignments and the conflicts of interest, as the
arrays of portal.review.solver, with a fingerprint of everything the plan depends on (a
preview whose fingerprint no longer matches is stale).

What is kept: every started or submitted review's assignment, and every other active
assignment unless staff choose "replace unstarted" (then the solver may keep or replace
those). Kept assignments count against loads and wanted numbers. A pair the reviewer
declined or staff removed by hand is never added back automatically; one the automatic
assignment replaced, or the portal removed for a conflict since dismissed, may be.
Active assignments a conflict holds back (or of a reviewer who left the pool) count for
nothing and stay as they are.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import exists, select

from portal.accounts.models import Role, User, UserRole
from portal.cycles.models import Cycle, Specialty
from portal.extensions import db
from portal.nominations.lifecycle import NominationState
from portal.nominations.models import Nomination
from portal.review import solver
from portal.review.lifecycle import LIVE_ASSIGNMENTS, ReviewState
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


def setup_of(cycle_id: int) -> ReviewSetup:
    """The cycle's review settings; defaults (not saved) when none were made yet."""
    setup = db.session.scalar(select(ReviewSetup).where(ReviewSetup.cycle_id == cycle_id))
    return setup or ReviewSetup(cycle_id=cycle_id, reviews_wanted=3, default_load=15,
                                blind_fields=[])


def limit_of(member_limit: int | None, setup: ReviewSetup) -> int:
    return member_limit if member_limit is not None else setup.default_load


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
