"""Who may use the reviewers' files (portal/review/document_routes.py): the reviewer
assigned to a dossier, and nobody else, through any URL.

The world: a dossier of institution A assigned to "reviewer" ("other_reviewer" is in the
pool, not assigned: refused), its passport (sensitive: refused to everyone), and a second
dossier assigned to "reviewer" whose conflict of interest closes it (refused, 404). A
third reviewer nobody signs in as is assigned to the first dossier with a conflict, so
the world holds a conflicted reviewer object of its own.
"""

from __future__ import annotations

from tests.access.rules import Rule

REVIEWER = frozenset({"reviewer"})
REVIEWERS = frozenset({"reviewer", "other_reviewer"})
NOBODY: frozenset[str] = frozenset()


def build(world, factory) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from portal.extensions import db
    from portal.nominations.models import NominationDocument, NominationState
    from portal.review.models import ConflictKind, ReviewStatus
    from tests.nominations.factories import make_cycle, make_nomination, requirement
    from tests.review.factories import (
        add_to_pool,
        assign,
        make_conflict,
        make_criteria,
        make_review,
        make_setup,
    )

    cycle = make_cycle()
    make_setup(cycle)
    criteria = make_criteria(cycle)
    a, b = world.institution_a, world.institution_b
    for person in (world.reviewer, world.other_reviewer):
        add_to_pool(cycle, person)
    world.docs_nomination = make_nomination(cycle, a, state=NominationState.SUBMITTED,
                                            family_name="Documented",
                                            documents=("application", "cv", "passport"))
    documents = db.session.scalars(select(NominationDocument).where(
        NominationDocument.nomination_id == world.docs_nomination.id)).all()
    by_requirement = {d.requirement_id: d for d in documents}
    world.docs_document = by_requirement[requirement(cycle, "cv").id]
    world.docs_passport = by_requirement[requirement(cycle, "passport").id]
    mine = assign(world.docs_nomination, world.reviewer)
    make_review(mine, status=ReviewStatus.SUBMITTED, criteria=criteria)

    # A dossier assigned to "reviewer" and closed by a conflict with its institution.
    world.docs_conflicted_nomination = make_nomination(
        cycle, b, state=NominationState.SUBMITTED, family_name="Conflicted",
        documents=("application",))
    world.docs_conflicted_document = db.session.scalars(select(NominationDocument).where(
        NominationDocument.nomination_id == world.docs_conflicted_nomination.id)).one()
    assign(world.docs_conflicted_nomination, world.reviewer)
    make_conflict(cycle, world.reviewer, institution=b, kind=ConflictKind.FORMER_COLLEAGUE)

    # A conflicted reviewer of the first dossier (an object; nobody signs in as them).
    world.docs_conflicted_reviewer = factory.reviewer(
        email="conflicted.reviewer@access.example.org")
    add_to_pool(cycle, world.docs_conflicted_reviewer)
    assign(world.docs_nomination, world.docs_conflicted_reviewer)
    make_conflict(cycle, world.docs_conflicted_reviewer, nomination=world.docs_nomination)


def _doc(w, attr: str = "docs_document") -> str:  # noqa: ANN001
    document = getattr(w, attr)
    return f"/review/{document.nomination_id}/documents/{document.id}"


RULES: list[Rule] = [
    Rule("review.document", lambda w: _doc(w), REVIEWER,
         note="the assigned reviewer gets the reviewers' copy; everyone else 404"),
    Rule("review.document_preview", lambda w: _doc(w) + "/preview", REVIEWER),
    Rule("review.dossier_zip",
         lambda w: f"/review/{w.docs_nomination.id}/documents.zip", REVIEWER),
    Rule("review.my_reviews_export", lambda w: "/review/my-reviews/export.csv", REVIEWERS,
         note="each reviewer exports their own reviews (none: a header only)"),
    Rule("review.my_reviews_export", lambda w: "/review/my-reviews/export.xlsx", REVIEWERS),
    # Refused to every viewer, the assigned reviewer included.
    Rule("review.document", lambda w: _doc(w, "docs_passport"), NOBODY, ok=(404,),
         note="sensitive documents never reach reviewers"),
    Rule("review.document", lambda w: _doc(w, "docs_conflicted_document"), NOBODY,
         ok=(404,), note="a conflict of interest closes an assigned dossier"),
    Rule("review.document_preview",
         lambda w: _doc(w, "docs_conflicted_document") + "/preview", NOBODY, ok=(404,)),
    Rule("review.dossier_zip",
         lambda w: f"/review/{w.docs_conflicted_nomination.id}/documents.zip", NOBODY,
         ok=(404,)),
]
