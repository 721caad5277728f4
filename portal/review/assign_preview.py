"""What an automatic assignment would change, described for staff (portal.review.assignment
computes it; this module only counts)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from flask_babel.speaklater import LazyString

from portal.cycles.models import Cycle
from portal.review import solver
from portal.review.assignment import (
    EVERYONE_CONFLICTED,
    REASON_TEXTS,
    Plan,
    make_plan,
    token_of,
)


@dataclass(frozen=True)
class ReviewerChange:
    user_id: int
    name: str
    specialties: list[str]  # names
    limit: int
    before: int  # live assignments now
    kept: int
    added: int  # new and re-added
    removed: int  # unstarted ones replaced
    after: int
    matched: int  # of `after`, reviews of the reviewer's specialties
    component: int | None  # 1-based component of the review graph; None without load


@dataclass(frozen=True)
class ShortNomination:
    nomination_id: int
    reference: str
    name: str
    specialty: str
    wanted: int
    kept: int
    missing: int
    reason: str  # solver.REASONS
    reason_text: LazyString


@dataclass(frozen=True)
class Preview:
    cycle: Cycle
    wanted: int
    replace_unstarted: bool
    reviewers: list[ReviewerChange]
    nominations: int
    added: int
    reactivated: int
    removed: int
    kept: int
    held_back: int  # active assignments a conflict (or a member leaving the pool) holds back
    shortfalls: list[ShortNomination]
    matched_share: float | None  # of all reviews after apply, on nominations with a specialty
    components: list[list[str]]  # reviewer names per component (one: connected)
    pinned: int  # bridging assignments the connectivity step pinned
    connect_mismatches: int  # specialty matches given up to connect the graph
    seconds: float
    token: str

    @property
    def changes(self) -> int:
        return self.added + self.reactivated + self.removed

    @property
    def connected(self) -> bool:
        return len(self.components) <= 1


def preview(cycle: Cycle, *, replace_unstarted: bool = False) -> Preview:
    return describe(make_plan(cycle, replace_unstarted=replace_unstarted))


def describe(plan: Plan) -> Preview:
    built, solution, instance = plan.built, plan.solution, plan.built.instance
    r_count = instance.reviewers
    pairs = solution.pairs
    new_per = np.bincount(pairs[:, 1], minlength=r_count) if len(pairs) else \
        np.zeros(r_count, dtype=np.int64)
    r_index = {m.user_id: j for j, m in enumerate(built.members)}
    added = np.zeros(r_count, dtype=np.int64)
    for _n, r in plan.add:
        added[r_index[r]] += 1
    for held in plan.reactivate:
        added[r_index[held.reviewer_id]] += 1
    removed = np.zeros(r_count, dtype=np.int64)
    for held in plan.remove:
        removed[r_index[held.reviewer_id]] += 1
    replaceable = np.zeros(r_count, dtype=np.int64)
    for held in built.replaceable:
        replaceable[r_index[held.reviewer_id]] += 1
    # Reviews after apply, in the instance: kept pairs and the solution's pairs.
    every = np.concatenate([instance.kept, pairs]) if len(pairs) else instance.kept
    has_specialty = np.array([bool(c.specialty) for c in built.nominations], dtype=bool)
    matched_pair = instance.match[every[:, 0], every[:, 1]] if len(every) else \
        np.zeros(0, dtype=bool)
    matched = np.bincount(every[matched_pair, 1], minlength=r_count) if len(every) else \
        np.zeros(r_count, dtype=np.int64)
    with_specialty = has_specialty[every[:, 0]] if len(every) else np.zeros(0, dtype=bool)
    share = (float(matched_pair[with_specialty].mean()) if with_specialty.any() else None)
    component_of = {r: k + 1 for k, group in enumerate(solution.components) for r in group}
    reviewers = [
        ReviewerChange(
            user_id=m.user_id, name=m.name,
            specialties=[built.specialty_names.get(c, c) for c in m.specialties],
            limit=m.limit, before=int(instance.base_load[j] + replaceable[j]),
            kept=int(instance.base_load[j] + replaceable[j] - removed[j]),
            added=int(added[j]), removed=int(removed[j]),
            after=int(instance.base_load[j] + new_per[j]), matched=int(matched[j]),
            component=component_of.get(j))
        for j, m in enumerate(built.members)]
    wanted = built.setup.reviews_wanted
    short = solver.shortfalls(instance, solution,
                              wanted=np.full(instance.nominations, wanted, dtype=np.int64),
                              kept=built.kept_per_nomination)
    eligible = instance.allowed.sum(axis=1) + built.kept_per_nomination
    shortfalls = [
        ShortNomination(
            nomination_id=c.id, reference=c.reference, name=c.name.strip(),
            specialty=built.specialty_names.get(c.specialty, c.specialty), wanted=wanted,
            kept=int(built.kept_per_nomination[s.nomination]), missing=s.missing,
            reason=s.reason,
            reason_text=(EVERYONE_CONFLICTED if s.reason == solver.CONFLICTS
                         and eligible[s.nomination] == 0 else REASON_TEXTS[s.reason]))
        for s in short for c in [built.nominations[s.nomination]]]
    return Preview(
        cycle=built.cycle, wanted=wanted, replace_unstarted=built.replace_unstarted,
        reviewers=reviewers, nominations=instance.nominations, added=len(plan.add),
        reactivated=len(plan.reactivate), removed=len(plan.remove),
        kept=int(instance.base_load.sum() + replaceable.sum() - removed.sum()),
        held_back=len(built.held_back), shortfalls=shortfalls, matched_share=share,
        components=[[built.members[j].name for j in group]
                    for group in solution.components],
        pinned=len(solution.pinned),
        connect_mismatches=solution.cost.mismatched - solution.free_cost.mismatched,
        seconds=solution.seconds, token=token_of(plan))
