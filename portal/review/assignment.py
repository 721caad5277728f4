"""The automatic assignment of a cycle: the instance from the database, a preview, apply.

1. `make_plan(cycle, replace_unstarted=...)` runs the hooks registered to run before an
   assignment (the automatic conflicts of interest are refreshed there), builds the
   instance (portal.review.assign_instance) from the cycle's active pool, its reviewable
   nominations, their assignments and conflicts, and solves it; portal.review.assign_preview
   describes the result: what changes per reviewer, the load table, the share of reviews
   matched by specialty, the nominations that cannot get enough reviewers and why, the
   review graph's components. It carries a signed token with a fingerprint of the
   instance and a digest of the plan.
2. `apply(cycle, token, actor)` builds and solves again under the cycle's lock. If the
   fingerprint or the plan differ (assignments, conflicts, the pool or the settings changed
   in between), it refuses (409) and staff run the preview again; otherwise it writes the
   plan in the request's one transaction: new assignments (source "auto"), reactivated
   ones, replaced ones removed, the audit record, the nominations moved to "under review",
   and one mail per reviewer whose queue changed.

What the instance holds and keeps is said in portal.review.assign_instance.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import exists, insert, select, update

from portal.accounts.models import User
from portal.audit.services import record
from portal.cycles.models import Cycle
from portal.db import rowcount, utcnow
from portal.errors import Conflict, Refused
from portal.extensions import db
from portal.lifecycle import STAFF
from portal.nominations import workflow
from portal.nominations.lifecycle import NOMINATION
from portal.nominations.models import Nomination
from portal.review import solver
from portal.review.assign_instance import Built, Held, build
from portal.review.assign_mails import notify_queues
from portal.review.lifecycle import ASSIGNMENT
from portal.review.models import (
    Assignment,
    AssignmentStatus,
    EndedBy,
    Review,
)

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


def lock_cycle(cycle: Cycle) -> None:
    """Serialize assignment changes of one cycle (PostgreSQL: the cycle's row lock;
    SQLite: writing transactions hold the database's write lock already)."""
    db.session.execute(select(Cycle.id).where(Cycle.id == cycle.id).with_for_update())


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
