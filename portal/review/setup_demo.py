"""Demo review set-up of a cycle, for the demo loader (`flask demo-data`) to call:
settings (open now, closing in three weeks, blind for name, native name, institution and
photo), the rubric of four criteria, an anonymised CV for reviewers, and the demo
reviewers in the pool with specialties."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.cycles.models import Cycle, DocumentRequirement, ReviewerVisibility
from portal.db import utcnow
from portal.extensions import db
from portal.review import conflicts
from portal.review.models import BlindField, Criterion, PoolMember, ReviewSetup
from portal.review.setup import ensure_setup

CONFIDENTIALITY = (
    "Dossiers are confidential. I will not copy, share or discuss them outside the "
    "selection committee, will keep downloaded files only as long as the review needs "
    "them, and will declare any conflict of interest as soon as I see one."
)
# code, name, description, guidance, scale, weight, required
CRITERIA = [
    ("clinical", "Clinical experience",
     "Years and breadth of practice in the specialty, responsibility held.",
     {"1": "Less than the years asked", "3": "The years asked, routine work",
      "5": "Well beyond, leads a service"}, (1, 5), 2.0, True),
    ("motivation", "Motivation and plan to use the training at home",
     "A concrete plan for what the candidate will change at their institution.",
     {"1": "No plan", "3": "A general intention", "5": "A precise plan, backed by the head"},
     (1, 5), 1.5, True),
    ("english", "English",
     "Can the candidate follow lectures and talk with colleagues in English?",
     {"0": "No evidence", "5": "Basic", "10": "Fluent"}, (0, 10), 1.0, True),
    ("need", "The institution's need",
     "How much the institution and its region would gain from the training.",
     {"1": "Little", "5": "Great, no similar training available"}, (1, 5), 1.0, False),
]
ANONYMISED_CV = ("cv_anonymised", "CV without name, photo or institution")


def demo_setup(cycle: Cycle, reviewers: Sequence[User], *,
               now: datetime | None = None) -> ReviewSetup:
    """Set up review of `cycle` for the demo (idempotent: run twice, changes nothing)."""
    now = now or utcnow()
    setup = ensure_setup(cycle)
    if setup.opens_at is None:
        setup.opens_at = now - timedelta(days=2)
        setup.closes_at = now + timedelta(days=21)
    setup.reviews_wanted = 3
    setup.default_load = 15
    setup.blind_fields = [str(BlindField.NAME), str(BlindField.NATIVE_NAME),
                          str(BlindField.INSTITUTION), str(BlindField.PHOTO)]
    setup.confidentiality_text = setup.confidentiality_text or CONFIDENTIALITY
    if not db.session.scalar(select(Criterion.id).where(Criterion.cycle_id == cycle.id)):
        for i, (code, name, description, guidance, (low, high), weight, required) in \
                enumerate(CRITERIA):
            db.session.add(Criterion(cycle_id=cycle.id, code=code, position=i + 1, name=name,
                                     description=description, guidance=guidance,
                                     scale_min=low, scale_max=high, weight=weight,
                                     required=required))
    _anonymised_cv(cycle)
    codes = [s.code for s in cycle.specialties]
    members = {m.user_id for m in db.session.scalars(
        select(PoolMember).where(PoolMember.cycle_id == cycle.id))}
    for i, user in enumerate(reviewers):
        if user.id in members:
            continue
        mine = sorted({codes[i % len(codes)], codes[(i + 1) % len(codes)]},
                      key=codes.index) if codes else []
        db.session.add(PoolMember(cycle_id=cycle.id, user_id=user.id, specialties=mine,
                                  languages=["en", "ja"] if i == 0 else ["en"],
                                  affiliation_name="", affiliation_country="",
                                  institution_id=user.institution_id))
    db.session.flush()
    conflicts.refresh_automatic(cycle)
    return setup


def _anonymised_cv(cycle: Cycle) -> None:
    """The CV (it carries the name) is hidden in blind review; reviewers read an
    anonymised CV, an optional requirement of its own."""
    code, label = ANONYMISED_CV
    for requirement in cycle.requirements:
        if requirement.code == "cv":
            requirement.reviewer_visibility = ReviewerVisibility.UNLESS_BLIND
    if any(r.code == code for r in cycle.requirements):
        return
    cv = next((r for r in cycle.requirements if r.code == "cv"), None)
    cycle.requirements.append(DocumentRequirement(
        code=code, label=label, required=False, accepted_types=["pdf"], max_size_mb=10,
        help_text="For the selection committee in blind review: the CV with the name, "
                  "photo and institution removed.",
        anonymised=True, position=(cv.position if cv else len(cycle.requirements)) + 1))
