"""Demo data of the review (`flask demo-data`): the open cycle under blind review.

The rubric of four criteria, blind for name, native name, institution and photo, with
anonymised CVs for reviewers; reviewer1..3 in the pool with specialties; one conflict a
reviewer declared on a dossier; the automatic assignment of the dossiers under review;
reviewer2 has submitted every review, reviewer3 most of theirs, and reviewer1 has one
draft and the rest still to do (reviewer1 signs in and has work to do).
"""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from portal.accounts.models import User
from portal.cycles.models import Cycle
from portal.extensions import db
from portal.nominations.demo import make_pdf
from portal.nominations.models import DocumentState, Nomination, NominationDocument
from portal.review import assignment, conflicts, reviewer_services, scoring
from portal.review.models import Assignment, AssignmentStatus, ConflictKind, ConflictSource
from portal.review.policy import REVIEWED_STATES
from portal.review.rubric import criteria_of
from portal.review.setup_demo import ANONYMISED_CV, demo_setup
from portal.storage import store_upload

# Per reviewer (by position): how many of their dossiers they submitted, and whether one
# more is a draft.
SUBMITTED = (0, 99, 3)
DRAFTS = (1, 0, 1)
COMMENTS = (
    "Solid clinical record; the plan for the department is concrete and supported by the "
    "head of the institution.",
    "Good candidate, but the plan to use the training at home stays general.",
    "Experienced, with clear English; the institution has no comparable training nearby.",
)


def _anonymised_cvs(cycle: Cycle, nominations: list[Nomination], user_id: int) -> None:
    requirement = next(r for r in cycle.requirements if r.code == ANONYMISED_CV[0])
    for nomination in nominations:
        data = make_pdf(ANONYMISED_CV[1], [
            f"Reference: {nomination.reference}",
            f"Position: {nomination.position or 'clinician'}",
            "Clinical experience, training and publications (names removed).",
        ], pages=2)
        blob = store_upload(io.BytesIO(data), original_name="cv-anonymised.pdf",
                            allowed={"pdf"}, max_bytes=requirement.max_size_mb * 1024 * 1024,
                            user_id=user_id)
        db.session.add(NominationDocument(
            nomination_id=nomination.id, requirement_id=requirement.id, blob_id=blob.id,
            uploaded_by_id=user_id, state=DocumentState.UPLOADED))


def _values(criteria: list[Any], reviewer: int, dossier: int) -> scoring.ReviewInput:
    """Scores that differ by reviewer (a lenient and a strict one) and by dossier."""
    scores: dict[str, int | None] = {}
    for k, c in enumerate(criteria):
        span = c.scale_max - c.scale_min
        level = (0.45 + 0.1 * ((dossier * 3 + k) % 5) + (0.1, 0.0, -0.1)[reviewer % 3])
        scores[str(c.id)] = c.scale_min + round(max(0.0, min(1.0, level)) * span)
    return scoring.ReviewInput(
        scores=scores, recommendation=("yes", "strong_yes", "borderline")[(dossier + reviewer) % 3],
        committee_comment=COMMENTS[(dossier + reviewer) % len(COMMENTS)],
        applicant_comment="Thank you for a clear and complete application.")


def load(people: dict[str, Any]) -> None:
    cycle = db.session.scalar(select(Cycle).where(Cycle.name == "FY2027"))
    if cycle is None:
        return
    staff: User = people["admin"]
    reviewers: list[User] = people["reviewers"]
    demo_setup(cycle, reviewers)
    db.session.flush()
    db.session.refresh(cycle)
    nominations = list(db.session.scalars(
        select(Nomination).where(Nomination.cycle_id == cycle.id,
                                 Nomination.state.in_(REVIEWED_STATES))
        .order_by(Nomination.id)))
    _anonymised_cvs(cycle, nominations, staff.id)
    for reviewer in reviewers:
        reviewer_services.accept_terms(reviewer, cycle.id)
    # reviewer3 knows one candidate's head of department: a conflict declared up front.
    hanoi = next((n for n in nominations if n.country == "VN"), None)
    if hanoi is not None:
        conflicts.add_conflict(
            cycle, reviewers[2], conflicts.Target(nomination_id=hanoi.id),
            kind=ConflictKind.FORMER_COLLEAGUE, actor=reviewers[2],
            note="I worked with the candidate's head of department until last year.",
            source=ConflictSource.DOSSIER)
    assignment.assign_now(cycle, staff)
    db.session.flush()
    criteria = criteria_of(cycle.id)
    for r, reviewer in enumerate(reviewers):
        mine = list(db.session.scalars(
            select(Assignment).where(Assignment.cycle_id == cycle.id,
                                     Assignment.reviewer_id == reviewer.id,
                                     Assignment.status == AssignmentStatus.ACTIVE)
            .order_by(Assignment.nomination_id)))
        for d, held in enumerate(mine):
            if d < SUBMITTED[r]:
                scoring.save(reviewer, held, _values(criteria, r, d), 1, submit=True)
            elif d < SUBMITTED[r] + DRAFTS[r]:
                draft = _values(criteria, r, d)
                scoring.save(reviewer, held, scoring.ReviewInput(
                    scores=dict(list(draft.scores.items())[:2]),
                    committee_comment="First reading: strong clinical record."), 1)
    db.session.flush()

