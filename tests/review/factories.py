"""Test data of the review area: a cycle's review settings, rubric, reviewer pool,
conflicts, assignments and reviews in every state. Shared by every part's tests.

Rows are made directly through the models (fast, independent of the pages under test)
and committed, like tests/nominations/factories.py, which this builds on. The one-call
world is `make_review_cycle(factory)`:

    rc = make_review_cycle(factory)
    rc.reviewers[0]          # assigned to nominations 0 (not started), 1 (draft), 2 (submitted)
    rc.assignment(1, 0)      # the assignment of nomination 1 to reviewer 0
    rc.review(2, 0)          # reviewer 0's submitted review of nomination 2
    rc.conflicted            # in the pool, assigned to nomination 0 but conflicted with
                             # its institution (policy must hide it)
    rc.outsider              # a reviewer in the pool with no assignment

The shape (states of nominations, who is assigned what, which reviews exist) is listed in
`make_review_cycle`'s docstring; tests rely on it, so change it only by adding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from portal.accounts.models import User
from portal.cycles.models import (
    Cycle,
    ReviewerVisibility,
    Sensitivity,
    ValidityRule,
)
from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.models import Nomination, NominationState
from portal.review.models import (
    Assignment,
    AssignmentStatus,
    BlindField,
    Conflict,
    ConflictKind,
    ConflictSource,
    ConflictStatus,
    Criterion,
    PoolMember,
    Review,
    ReviewSetup,
    ReviewStatus,
)
from portal.review.rubric_score import Scale, weighted_score
from tests.factories import Factory
from tests.nominations.factories import make_cycle, make_nomination

# -- settings and rubric ------------------------------------------------------------------


def make_setup(cycle: Cycle, *, opens_in: timedelta = timedelta(days=-1),
               closes_in: timedelta | None = timedelta(days=14),
               blind: Iterable[str] = (), **kw: Any) -> ReviewSetup:
    """The cycle's review settings: open now (yesterday until in two weeks) by default;
    `blind` lists BlindField values; other keywords are ReviewSetup columns."""
    now = utcnow()
    values: dict[str, Any] = {
        "cycle_id": cycle.id, "opens_at": now + opens_in,
        "closes_at": None if closes_in is None else now + closes_in,
        "timezone": "Asia/Tokyo", "reviews_wanted": 3, "default_load": 15,
        "blind_fields": [str(b) for b in blind], "others_visible": "after_own",
        "others_named": False, "confidentiality_text": "Keep what you read to yourself.",
        "disagreement_threshold": 0.35,
    }
    values.update(kw)
    setup = ReviewSetup(**values)
    db.session.add(setup)
    db.session.commit()
    return setup


# The demo's rubric: four criteria on different scales and weights.
CRITERIA: list[dict[str, Any]] = [
    {"code": "clinical", "name": "Clinical experience", "scale_min": 1, "scale_max": 5,
     "weight": 2.0, "required": True,
     "guidance": {"1": "No relevant experience", "5": "Leads the service"}},
    {"code": "motivation", "name": "Motivation and plan to use the training at home",
     "scale_min": 1, "scale_max": 5, "weight": 1.0, "required": True},
    {"code": "english", "name": "English", "scale_min": 0, "scale_max": 10, "weight": 1.0,
     "required": True},
    {"code": "need", "name": "The institution's need", "scale_min": 1, "scale_max": 5,
     "weight": 1.0, "required": False},
]


def make_criteria(cycle: Cycle, specs: Sequence[dict[str, Any]] | None = None,
                  ) -> list[Criterion]:
    """The cycle's rubric (CRITERIA unless `specs`), in order; committed."""
    made = []
    for i, spec in enumerate(specs if specs is not None else CRITERIA):
        values: dict[str, Any] = {"cycle_id": cycle.id, "position": i, "description": "",
                                  "guidance": {}}
        values.update(spec)
        criterion = Criterion(**values)
        db.session.add(criterion)
        made.append(criterion)
    db.session.commit()
    return made


def scales(criteria: Iterable[Criterion]) -> list[Scale]:
    return [Scale(c.id, c.scale_min, c.scale_max, c.weight) for c in criteria]


def full_scores(criteria: Iterable[Criterion], value: str = "max") -> dict[str, int]:
    """Scores of every criterion: "max", "min" or "mid" of each scale."""
    pick = {"max": lambda c: c.scale_max, "min": lambda c: c.scale_min,
            "mid": lambda c: (c.scale_min + c.scale_max) // 2}[value]
    return {str(c.id): pick(c) for c in criteria}


# -- pool and conflicts -------------------------------------------------------------------


def add_to_pool(cycle: Cycle, user: User, *, specialties: Iterable[str] = (),
                terms_accepted: bool = True, **kw: Any) -> PoolMember:
    """`user` in the cycle's pool (terms accepted by default, so dossiers open)."""
    values: dict[str, Any] = {
        "cycle_id": cycle.id, "user_id": user.id, "specialties": list(specialties),
        "languages": ["en"], "affiliation_name": "", "affiliation_country": "",
        "terms_accepted_at": utcnow() if terms_accepted else None, "active": True,
    }
    values.update(kw)
    member = PoolMember(**values)
    db.session.add(member)
    db.session.commit()
    return member


def make_conflict(cycle: Cycle, reviewer: User, *, institution: Institution | None = None,
                  country: str | None = None, nomination: Nomination | None = None,
                  kind: str = ConflictKind.OTHER, source: str = ConflictSource.STAFF,
                  status: str = ConflictStatus.ACTIVE, reason_code: str = "",
                  note: str = "", **kw: Any) -> Conflict:
    """A conflict of `reviewer` with exactly one target (institution, country or
    nomination)."""
    targets = [t for t in (institution, country, nomination) if t is not None]
    assert len(targets) == 1, "a conflict has exactly one target"
    if institution is not None:
        target = f"institution:{institution.id}"
    elif nomination is not None:
        target = f"nomination:{nomination.id}"
    else:
        target = f"country:{country}"
    row = Conflict(cycle_id=cycle.id, reviewer_id=reviewer.id,
                   institution_id=institution.id if institution else None,
                   nomination_id=nomination.id if nomination else None, country=country,
                   target=target, kind=kind, source=source, status=status,
                   reason_code=reason_code, note=note, **kw)
    db.session.add(row)
    db.session.commit()
    return row


# -- assignments and reviews --------------------------------------------------------------


def assign(nomination: Nomination, reviewer: User, *,
           status: str = AssignmentStatus.ACTIVE, source: str = "manual",
           **kw: Any) -> Assignment:
    values: dict[str, Any] = {"cycle_id": nomination.cycle_id,
                              "nomination_id": nomination.id, "reviewer_id": reviewer.id,
                              "status": status, "source": source, "changed_since_review": []}
    if status != AssignmentStatus.ACTIVE:
        values["ended_at"] = utcnow()
    values.update(kw)
    row = Assignment(**values)
    db.session.add(row)
    db.session.commit()
    return row


def make_review(assignment: Assignment, *, status: str = ReviewStatus.DRAFT,
                scores: dict[str, int] | None = None,
                criteria: Iterable[Criterion] | None = None, recommendation: str = "",
                committee_comment: str = "", submitted_at: datetime | None = None,
                **kw: Any) -> Review:
    """The assignment's review; `score` follows the scores (rubric_score.weighted_score
    over `criteria`, or the cycle's criteria). A submitted review gets a recommendation
    and a committee comment unless given."""
    if criteria is None:
        criteria = list(db.session.scalars(
            select(Criterion).where(Criterion.cycle_id == assignment.cycle_id)))
    scores = dict(scores or {})
    submitted = status == ReviewStatus.SUBMITTED
    values: dict[str, Any] = {
        "assignment_id": assignment.id, "cycle_id": assignment.cycle_id,
        "nomination_id": assignment.nomination_id, "reviewer_id": assignment.reviewer_id,
        "status": status, "scores": scores,
        "recommendation": recommendation or ("yes" if submitted else ""),
        "committee_comment": committee_comment or ("Solid candidate." if submitted else ""),
        "applicant_comment": "", "score": weighted_score(scales(criteria), scores),
        "revision": 1, "submitted_at": submitted_at or (utcnow() if submitted else None),
    }
    values.update(kw)
    review = Review(**values)
    db.session.add(review)
    db.session.commit()
    return review


# -- documents of a blind cycle -----------------------------------------------------------


def blind_requirement_specs() -> list[dict[str, Any]]:
    """Documents of a blind cycle: the usual ones (the CV shown only when not blind, the
    photo as always), plus an anonymised CV reviewers see when blind."""
    return [
        {"code": "application", "label": "Application form", "accepted_types": ["pdf"]},
        {"code": "cv", "label": "Curriculum vitae", "accepted_types": ["pdf"],
         "reviewer_visibility": ReviewerVisibility.UNLESS_BLIND},
        {"code": "cv_anonymised", "label": "CV without name, photo or institution",
         "accepted_types": ["pdf"], "anonymised": True},
        {"code": "passport", "label": "Passport copy", "accepted_types": ["pdf", "jpeg"],
         "validity_rule": ValidityRule.VALID_MONTHS_AFTER_TRAINING, "validity_param": 6,
         "sensitivity": Sensitivity.SENSITIVE},
        {"code": "health", "label": "Health certificate", "accepted_types": ["pdf"],
         "validity_rule": ValidityRule.ISSUED_DAYS_BEFORE_DEADLINE, "validity_param": 90,
         "sensitivity": Sensitivity.SENSITIVE},
        {"code": "photo", "label": "Photo", "accepted_types": ["jpeg", "png"],
         "required": False, "max_size_mb": 1},
    ]


# -- the whole review world ---------------------------------------------------------------


@dataclass
class ReviewCycle:
    cycle: Cycle
    setup: ReviewSetup
    criteria: list[Criterion]
    institutions: list[Institution]
    nominations: list[Nomination]
    reviewers: list[User]
    pool: list[PoolMember]
    conflicted: User
    outsider: User
    staff: User
    assignments: dict[tuple[int, int], Assignment] = field(default_factory=dict)
    reviews: dict[tuple[int, int], Review] = field(default_factory=dict)
    conflict: Conflict | None = None

    def assignment(self, nomination: int, reviewer: int) -> Assignment:
        """By index of nomination and reviewer (reviewer -1: the conflicted one)."""
        return self.assignments[(nomination, reviewer)]

    def review(self, nomination: int, reviewer: int) -> Review:
        return self.reviews[(nomination, reviewer)]

    def member(self, user: User) -> PoolMember:
        return next(m for m in self.pool if m.user_id == user.id)


def make_review_cycle(factory: Factory, *, blind: Iterable[str] = (),
                      setup: dict[str, Any] | None = None,
                      cycle: dict[str, Any] | None = None,
                      documents: bool = False) -> ReviewCycle:
    """A cycle under review, with every state the review pages meet:

    institutions: 0 (MY), 1 (VN)
    nominations:  0 submitted (inst 0), 1 under_review (inst 0), 2 under_review (inst 1),
                  3 resubmitted (inst 1), 4 returned (inst 1), 5 withdrawn (inst 0)
    reviewers:    0, 1, 2 in the pool (specialties cardiology / radiology / both);
                  `conflicted` in the pool with an active conflict on institution 0,
                  assigned (active) to nomination 0; `outsider` in the pool, unassigned.
    assignments (nomination, reviewer) -> review:
        (0, 0) active, no review          (1, 0) active, draft        (2, 0) active, submitted
        (1, 1) active, submitted          (2, 1) active, submitted    (3, 1) removed
        (0, 2) active, draft              (3, 2) active, no review    (1, 2) declined
        (4, 0) active (returned: hidden)  (5, 0) active (withdrawn: hidden)
        (0, -1) active, the conflicted reviewer (hidden by the conflict)

    `blind`: BlindField values (e.g. BLIND_ALL); `documents`: give nominations their
    required files (blind cycles get blind_requirement_specs()).
    """
    blind = [str(b) for b in blind]
    cycle_kw: dict[str, Any] = {"closes_in": timedelta(days=-5), "opens_in": timedelta(days=-40)}
    if blind:
        cycle_kw["requirements"] = blind_requirement_specs()
    cycle_kw.update(cycle or {})
    the_cycle = make_cycle(**cycle_kw)
    the_setup = make_setup(the_cycle, blind=blind, **(setup or {}))
    criteria = make_criteria(the_cycle)
    staff = factory.staff()
    institutions = [factory.institution(country="MY"),
                    factory.institution(country="VN", city="Hanoi",
                                        timezone="Asia/Ho_Chi_Minh")]
    S = NominationState
    plan = [(S.SUBMITTED, 0), (S.UNDER_REVIEW, 0), (S.UNDER_REVIEW, 1), (S.RESUBMITTED, 1),
            (S.RETURNED, 1), (S.WITHDRAWN, 0)]
    nominations = [
        make_nomination(the_cycle, institutions[inst], state=state,
                        specialty="cardiology" if i % 2 == 0 else "radiology",
                        documents=None if documents else (), confirmed=documents)
        for i, (state, inst) in enumerate(plan)
    ]
    reviewers = [factory.reviewer(name=f"Reviewer {c}") for c in "ABC"]
    conflicted = factory.reviewer(name="Conflicted Reviewer")
    outsider = factory.reviewer(name="Outsider Reviewer")
    specialties = [["cardiology"], ["radiology"], ["cardiology", "radiology"]]
    pool = [add_to_pool(the_cycle, r, specialties=s)
            for r, s in zip(reviewers, specialties, strict=True)]
    pool.append(add_to_pool(the_cycle, conflicted, specialties=["cardiology"]))
    pool.append(add_to_pool(the_cycle, outsider, specialties=["radiology"]))
    rc = ReviewCycle(cycle=the_cycle, setup=the_setup, criteria=criteria,
                     institutions=institutions, nominations=nominations,
                     reviewers=reviewers, pool=pool, conflicted=conflicted,
                     outsider=outsider, staff=staff)
    A = AssignmentStatus
    R = ReviewStatus
    shape: list[tuple[int, int, str, str | None]] = [
        (0, 0, A.ACTIVE, None), (1, 0, A.ACTIVE, R.DRAFT), (2, 0, A.ACTIVE, R.SUBMITTED),
        (1, 1, A.ACTIVE, R.SUBMITTED), (2, 1, A.ACTIVE, R.SUBMITTED), (3, 1, A.REMOVED, None),
        (0, 2, A.ACTIVE, R.DRAFT), (3, 2, A.ACTIVE, None), (1, 2, A.DECLINED, None),
        (4, 0, A.ACTIVE, None), (5, 0, A.ACTIVE, None),
    ]
    for n, r, status, review in shape:
        a = assign(nominations[n], reviewers[r], status=status,
                   declined_reason="Not my field" if status == A.DECLINED else "")
        rc.assignments[(n, r)] = a
        if review == R.SUBMITTED:
            # Different scores per reviewer, so aggregates and sort orders can tell them apart.
            value = "max" if r == 1 else "mid"
            rc.reviews[(n, r)] = make_review(a, status=R.SUBMITTED, criteria=criteria,
                                             scores=full_scores(criteria, value))
        elif review == R.DRAFT:
            first = criteria[0]
            rc.reviews[(n, r)] = make_review(a, status=R.DRAFT, criteria=criteria,
                                             scores={str(first.id): first.scale_min})
    rc.assignments[(0, -1)] = assign(nominations[0], conflicted)
    rc.conflict = make_conflict(the_cycle, conflicted, institution=institutions[0],
                                kind=ConflictKind.FORMER_COLLEAGUE,
                                source=ConflictSource.REVIEWER, note="Worked there")
    return rc


BLIND_ALL = (BlindField.NAME, BlindField.NATIVE_NAME, BlindField.INSTITUTION,
             BlindField.PHOTO, BlindField.DATE_OF_BIRTH)
