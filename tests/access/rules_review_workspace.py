"""Who may use the reviewer's queue, workspace and discussion (portal/review, part C).

"reviewer" is assigned to the dossiers of institution A below and has accepted the terms;
"other_reviewer" is in the same pool with no assignment, so every dossier URL answers them
404. One dossier is assigned to "reviewer" but blocked by a conflict of interest: nobody
may open it, not even the reviewer assigned. Staff have their own discussion page.
"""

from __future__ import annotations

from typing import Any

from portal.nominations.models import NominationState
from portal.review.models import ConflictKind, ConflictSource, ReviewStatus
from tests.access.rules import STAFF, Rule
from tests.nominations.factories import make_cycle, make_nomination
from tests.review.factories import (
    add_to_pool,
    assign,
    full_scores,
    make_conflict,
    make_criteria,
    make_review,
    make_setup,
)

REVIEWER = frozenset({"reviewer"})
REVIEWERS = frozenset({"reviewer", "other_reviewer"})


def build(world: Any, factory: Any) -> None:  # noqa: ARG001
    cycle = make_cycle()
    make_setup(cycle)
    criteria = make_criteria(cycle)
    add_to_pool(cycle, world.reviewer)
    add_to_pool(cycle, world.other_reviewer)
    a = world.institution_a

    def dossier() -> Any:
        return make_nomination(cycle, a, state=NominationState.SUBMITTED, documents=(),
                               confirmed=False)

    world.rv_dossier = dossier()
    world.rv_submitted = dossier()
    world.rv_to_decline = dossier()
    world.rv_to_conflict = dossier()
    world.rv_conflicted = dossier()
    for n in (world.rv_dossier, world.rv_to_decline, world.rv_to_conflict,
              world.rv_conflicted):
        assign(n, world.reviewer)
    world.rv_own_review = make_review(assign(world.rv_submitted, world.reviewer),
                                      status=ReviewStatus.SUBMITTED, criteria=criteria,
                                      scores=full_scores(criteria))
    make_conflict(cycle, world.reviewer, nomination=world.rv_conflicted,
                  kind=ConflictKind.PERSONAL, source=ConflictSource.STAFF)
    # A second cycle whose confidentiality terms the reviewer has not accepted yet.
    world.rv_terms_cycle = make_cycle()
    make_setup(world.rv_terms_cycle)
    add_to_pool(world.rv_terms_cycle, world.reviewer, terms_accepted=False)


def _n(w: Any, name: str = "rv_dossier") -> int:
    return int(getattr(w, name).id)


def _rubric(w: Any) -> dict[str, str]:
    return {"revision": "1", "committee_comment": "Fine.", "action": "save"}


RULES: list[Rule] = [
    Rule("review.queue", lambda w: "/review", REVIEWERS),
    Rule("review.my_reviews", lambda w: "/review/mine", REVIEWERS),
    Rule("review.my_review", lambda w: f"/review/mine/{w.rv_own_review.id}", REVIEWER),
    Rule("review.workspace", lambda w: f"/review/{_n(w)}", REVIEWER),
    Rule("review.workspace", lambda w: f"/review/{_n(w, 'rv_submitted')}", REVIEWER,
         note="submitted: the others' reviews and the discussion show"),
    Rule("review.workspace", lambda w: f"/review/{_n(w, 'rv_conflicted')}", frozenset(),
         ok=(404,), note="assigned but conflicted: 404 for the assigned reviewer too"),
    Rule("review.autosave", lambda w: f"/review/{_n(w, 'rv_conflicted')}/autosave",
         frozenset(), method="POST", data=lambda w: {"revision": "1"}, ok=(404,)),
    Rule("review.decline", lambda w: f"/review/{_n(w, 'rv_to_decline')}/decline", REVIEWER),
    Rule("review.declare_conflict", lambda w: f"/review/{_n(w, 'rv_to_conflict')}/conflict",
         REVIEWER),
    Rule("review.staff_discussion",
         lambda w: f"/staff/review/nominations/{_n(w, 'rv_submitted')}/discussion", STAFF),
    Rule("review.save", lambda w: f"/review/{_n(w)}", REVIEWER, method="POST",
         data=_rubric, ok=(303,), mutates=True),
    Rule("review.autosave", lambda w: f"/review/{_n(w)}/autosave", REVIEWER, method="POST",
         data=lambda w: {"revision": "2", "committee_comment": "Better."}, ok=(200,),
         mutates=True),
    Rule("review.post_message", lambda w: f"/review/{_n(w, 'rv_submitted')}/discussion",
         REVIEWER, method="POST", data=lambda w: {"body": "A thought."}, ok=(303,),
         mutates=True),
    Rule("review.staff_post",
         lambda w: f"/staff/review/nominations/{_n(w, 'rv_submitted')}/discussion", STAFF,
         method="POST", data=lambda w: {"body": "Noted."}, ok=(303,), mutates=True),
    Rule("review.decline", lambda w: f"/review/{_n(w, 'rv_to_decline')}/decline", REVIEWER,
         method="POST", data=lambda w: {"reason": "Away that month."}, ok=(303,),
         mutates=True),
    Rule("review.declare_conflict", lambda w: f"/review/{_n(w, 'rv_to_conflict')}/conflict",
         REVIEWER, method="POST", data=lambda w: {"kind": "personal", "note": ""}, ok=(303,),
         mutates=True),
    Rule("review.accept_terms", lambda w: f"/review/terms/{w.rv_terms_cycle.id}", REVIEWER,
         method="POST", ok=(303,), mutates=True),
]
