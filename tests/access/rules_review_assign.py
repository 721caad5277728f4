"""Who may assign reviewers (portal/review/assign_routes.py): staff only, on every route.

The world: a cycle under review with nominations of institution A, the viewers "reviewer"
and "other_reviewer" in its pool ("reviewer" assigned to one nomination), and a reviewer
with a conflict of interest on institution A. Reviewers, nominators and alumni are
refused every page here, the assigned and the conflicted reviewer included.
"""

from __future__ import annotations

from tests.access.rules import STAFF, Rule


def build(world, factory) -> None:  # noqa: ANN001
    from portal.nominations.models import NominationState
    from tests.nominations.factories import make_cycle, make_nomination
    from tests.review.factories import add_to_pool, assign, make_conflict, make_setup

    cycle = make_cycle()
    make_setup(cycle, reviews_wanted=2, default_load=5)
    a = world.institution_a

    def nomination(specialty: str):  # noqa: ANN202
        return make_nomination(cycle, a, state=NominationState.SUBMITTED, specialty=specialty,
                               documents=(), confirmed=False)

    world.assign_cycle = cycle
    world.assign_nomination = nomination("cardiology")
    world.assign_open_nomination = nomination("radiology")
    world.assign_conflicted_reviewer = factory.reviewer(name="Conflicted Assign Reviewer")
    for person, specialty in ((world.reviewer, "cardiology"),
                              (world.other_reviewer, "radiology"),
                              (world.assign_conflicted_reviewer, "cardiology")):
        add_to_pool(cycle, person, specialties=[specialty])
    make_conflict(cycle, world.assign_conflicted_reviewer, institution=a)
    world.assign_assignment = assign(world.assign_nomination, world.reviewer)
    world.assign_to_remove = assign(world.assign_open_nomination, world.reviewer)


def _token(w) -> dict:  # noqa: ANN001
    """A fresh preview of the world's cycle, as the preview page hands it to apply."""
    from portal.extensions import db
    from portal.review.assign_preview import preview

    token = preview(w.assign_cycle).token
    db.session.commit()
    return {"token": token}


def _c(w) -> int:  # noqa: ANN001
    return w.assign_cycle.id


RULES: list[Rule] = [
    Rule("review.assignment", lambda w: f"/staff/review/{_c(w)}/assignment?show=short", STAFF),
    Rule("review.assignment_preview", lambda w: f"/staff/review/{_c(w)}/assignment/preview",
         STAFF, method="POST", data=lambda w: {"replace_unstarted": "y"},
         note="renders the preview; nothing changes"),
    Rule("review.nomination_assignment",
         lambda w: f"/staff/review/nominations/{w.assign_nomination.id}/assignment", STAFF),
    Rule("review.reviewer_assignment",
         lambda w: f"/staff/review/{_c(w)}/reviewers/{w.reviewer.id}/assignment", STAFF),
    Rule("review.nomination_assign",
         lambda w: f"/staff/review/nominations/{w.assign_open_nomination.id}/assignment",
         STAFF, method="POST", data=lambda w: {"reviewer_id": w.other_reviewer.id},
         ok=(303,), mutates=True),
    Rule("review.reviewer_assign",
         lambda w: f"/staff/review/{_c(w)}/reviewers/{w.other_reviewer.id}/assignment",
         STAFF, method="POST", data=lambda w: {"nomination_id": w.assign_nomination.id},
         ok=(303,), mutates=True),
    Rule("review.assignment_remove",
         lambda w: f"/staff/review/assignments/{w.assign_to_remove.id}/remove", STAFF,
         method="POST", ok=(303,), mutates=True),
    Rule("review.assignment_apply", lambda w: f"/staff/review/{_c(w)}/assignment/apply",
         STAFF, method="POST", data=_token, ok=(303,), mutates=True),
    Rule("review.assignment_notify", lambda w: f"/staff/review/{_c(w)}/assignment/notify",
         STAFF, method="POST", ok=(303,), mutates=True),
]
