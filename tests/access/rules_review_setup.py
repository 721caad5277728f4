"""Who may use the review set-up (portal/review setup_routes and pool_routes): staff on
every staff page; the reviewer's declaration of conflicts for members of the cycle's pool
("reviewer", assigned, and "other_reviewer", unassigned), nobody else.

The world: a cycle under review with a rubric nobody has submitted on yet (so changes are
accepted), reviewer and other_reviewer in its pool, a conflicted reviewer (assigned, with
an active conflict on institution A), conflicts in each status for staff to decide, and
an earlier cycle whose rubric can be copied.
"""

from __future__ import annotations

from typing import Any

from portal.nominations.models import NominationState
from portal.review.models import ConflictSource, ConflictStatus
from tests.access.rules import STAFF, Rule
from tests.nominations.factories import make_cycle, make_nomination
from tests.review.factories import (
    add_to_pool,
    assign,
    make_conflict,
    make_criteria,
    make_review,
    make_setup,
)

POOL = frozenset({"reviewer", "other_reviewer"})


def build(world: Any, factory: Any) -> None:
    cycle = make_cycle()
    world.setup_cycle = cycle
    make_setup(cycle)
    world.setup_criteria = make_criteria(cycle)
    world.setup_earlier = make_cycle()
    make_criteria(world.setup_earlier, [{"code": "x", "name": "Earlier criterion"}])
    a, b = world.institution_a, world.institution_b
    world.setup_nomination = make_nomination(cycle, a, state=NominationState.UNDER_REVIEW,
                                             documents=(), confirmed=False)
    other = make_nomination(cycle, b, state=NominationState.SUBMITTED, documents=(),
                            confirmed=False)
    add_to_pool(cycle, world.reviewer, specialties=["cardiology"])
    add_to_pool(cycle, world.other_reviewer, specialties=["radiology"])
    assignment = assign(world.setup_nomination, world.reviewer)
    make_review(assignment, scores={})  # a draft: the rubric stays open to changes
    assign(other, world.reviewer)
    world.setup_conflicted = factory.reviewer(name="Conflicted Access Reviewer")
    add_to_pool(cycle, world.setup_conflicted)
    assign(world.setup_nomination, world.setup_conflicted)
    make_conflict(cycle, world.setup_conflicted, institution=a,
                  source=ConflictSource.REVIEWER)
    world.setup_to_confirm = make_conflict(cycle, world.setup_conflicted, institution=b,
                                           source=ConflictSource.AUTOMATIC,
                                           status=ConflictStatus.TO_CONFIRM,
                                           reason_code="email_domain:access.example.org")
    world.setup_to_dismiss = make_conflict(cycle, world.setup_conflicted, country="PH")
    world.setup_dismissed = make_conflict(cycle, world.setup_conflicted, country="TH",
                                          status=ConflictStatus.DISMISSED)
    world.setup_candidate = factory.reviewer(name="Candidate For The Pool")
    spare = factory.reviewer(name="Spare Pool Member")
    world.setup_spare_member = add_to_pool(cycle, spare)


def _c(w: Any) -> str:
    return f"/staff/review/{w.setup_cycle.id}"


def _criterion(w: Any, i: int = 0) -> str:
    return f"{_c(w)}/rubric/criteria/{w.setup_criteria[i].id}"


SETTINGS = {"timezone": "Asia/Tokyo", "opens_local": "2040-03-01T09:00",
            "closes_local": "2040-03-20T17:00", "reviews_wanted": "3", "default_load": "10",
            "others_visible": "after_own", "disagreement_threshold": "0.35"}
CRITERION = {"name": "A new criterion", "scale_min": "1", "scale_max": "5", "weight": "1"}


def _member(w: Any) -> str:
    return f"{_c(w)}/pool/{w.setup_spare_member.id}"


RULES: list[Rule] = [
    Rule("review.staff_index", lambda w: "/staff/review", STAFF),
    Rule("review.hub", lambda w: _c(w), STAFF),
    Rule("review.settings", lambda w: f"{_c(w)}/settings", STAFF),
    Rule("review.rubric_page", lambda w: f"{_c(w)}/rubric", STAFF),
    Rule("review.edit_criterion", lambda w: _criterion(w), STAFF),
    Rule("review.progress_page", lambda w: f"{_c(w)}/progress", STAFF),
    Rule("review.pool_page", lambda w: f"{_c(w)}/pool?q=candidate", STAFF),
    Rule("review.pool_member", lambda w: _member(w), STAFF),
    Rule("review.conflicts_page", lambda w: f"{_c(w)}/conflicts", STAFF),
    Rule("review.declare_conflicts",
         lambda w: f"/review/cycles/{w.setup_cycle.id}/conflicts", POOL,
         note="members of the cycle's pool; a reviewer of no pool gets 404"),

    Rule("review.settings", lambda w: f"{_c(w)}/settings", STAFF, method="POST",
         data=lambda w: dict(SETTINGS), ok=(303,), mutates=True),
    Rule("review.add_criterion", lambda w: f"{_c(w)}/rubric/criteria", STAFF,
         method="POST", data=lambda w: dict(CRITERION), ok=(303,), mutates=True),
    Rule("review.edit_criterion", lambda w: _criterion(w), STAFF, method="POST",
         data=lambda w: dict(CRITERION, name="Clinical experience", weight="2",
                             required="y"), ok=(303,), mutates=True),
    Rule("review.delete_criterion", lambda w: f"{_criterion(w, 3)}/delete", STAFF,
         method="POST", ok=(303,), mutates=True),
    Rule("review.remind_reviewer",
         lambda w: f"{_c(w)}/progress/remind/{w.reviewer.id}", STAFF, method="POST",
         ok=(303,), mutates=True),
    Rule("review.remind_late", lambda w: f"{_c(w)}/progress/remind-late", STAFF,
         method="POST", ok=(303,), mutates=True),
    Rule("review.add_to_pool", lambda w: f"{_c(w)}/pool", STAFF, method="POST",
         data=lambda w: {"user_id": str(w.setup_candidate.id)}, ok=(303,), mutates=True),
    Rule("review.invite_to_pool", lambda w: f"{_c(w)}/pool/invite", STAFF, method="POST",
         data=lambda w: {"name": "Invited Reviewer", "email": "invited.reviewer@example.net",
                         "language": "en"}, ok=(303,), mutates=True),
    Rule("review.pool_member", lambda w: _member(w), STAFF, method="POST",
         data=lambda w: {"specialties": ["cardiology"], "load_limit": "4", "languages": "en"},
         ok=(303,), mutates=True),
    Rule("review.deactivate_member", lambda w: f"{_member(w)}/deactivate", STAFF,
         method="POST", ok=(303,), mutates=True),
    Rule("review.reactivate_member", lambda w: f"{_member(w)}/reactivate", STAFF,
         method="POST", ok=(303,), mutates=True,
         note="after the rule above took the member out"),
    Rule("review.add_conflict", lambda w: f"{_c(w)}/conflicts", STAFF, method="POST",
         data=lambda w: {"reviewer_id": str(w.other_reviewer.id), "kind": "personal",
                         "target": "country", "country": "ID"}, ok=(303,), mutates=True),
    Rule("review.decide_conflict",
         lambda w: f"{_c(w)}/conflicts/{w.setup_to_confirm.id}/confirm", STAFF,
         method="POST", ok=(303,), mutates=True),
    Rule("review.decide_conflict",
         lambda w: f"{_c(w)}/conflicts/{w.setup_to_dismiss.id}/dismiss", STAFF,
         method="POST", ok=(303,), mutates=True),
    Rule("review.decide_conflict",
         lambda w: f"{_c(w)}/conflicts/{w.setup_dismissed.id}/reinstate", STAFF,
         method="POST", ok=(303,), mutates=True),
    Rule("review.refresh_conflicts", lambda w: f"{_c(w)}/conflicts/refresh", STAFF,
         method="POST", ok=(303,), mutates=True),
    Rule("review.declare_conflicts",
         lambda w: f"/review/cycles/{w.setup_cycle.id}/conflicts", POOL, method="POST",
         data=lambda w: {f"country-{w.institution_b.country}": "1"}, ok=(303,),
         mutates=True),
    # Last: the copy replaces the rubric the rules above point at.
    Rule("review.copy_rubric", lambda w: f"{_c(w)}/rubric/copy", STAFF, method="POST",
         data=lambda w: {"source": str(w.setup_earlier.id), "settings": "y"}, ok=(303,),
         mutates=True),
]
