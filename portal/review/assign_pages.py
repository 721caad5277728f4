"""What the staff assignment pages show, loaded in a few planned queries each: the cycle's
overview (the load table and the nominations with their reviewers counted), one
nomination's reviewers, one reviewer's nominations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import Select, Subquery, case, func, select

from portal.accounts.models import User
from portal.cycles.models import Cycle, Specialty
from portal.extensions import db
from portal.institutions.models import Institution
from portal.listing import ListFilters, Page, choice, page_of
from portal.nominations.labels import STATE_LABELS
from portal.nominations.models import Nomination
from portal.review.assign_instance import LOAD_STATES, limit_of, setup_of
from portal.review.assign_mails import unnotified
from portal.review.lifecycle import ReviewState
from portal.review.manual import Candidate, candidates, loads, pool_member
from portal.review.models import (
    Assignment,
    AssignmentStatus,
    EndedBy,
    PoolMember,
    Review,
    ReviewSetup,
    ReviewStatus,
)
from portal.review.policy import REVIEWED_STATES, blocking_conflict


def assigned_counts(cycle_id: int) -> Subquery:
    """Per nomination of the cycle: its active assignments that no conflict holds back
    (a subquery to outer-join: the conflict rule correlates with the nomination and the
    assignment of the same SELECT)."""
    return (select(Assignment.nomination_id.label("nomination_id"),
                   func.count(Assignment.id).label("assigned"))
            .join(Nomination, Nomination.id == Assignment.nomination_id)
            .where(Assignment.cycle_id == cycle_id,
                   Assignment.status == AssignmentStatus.ACTIVE,
                   ~blocking_conflict(Assignment.reviewer_id))
            .group_by(Assignment.nomination_id).subquery("assigned_counts"))


@dataclass(frozen=True)
class LoadLine:
    user: User
    specialties: list[str]
    limit: int
    load: int
    started: int  # drafts
    submitted: int

    @property
    def over(self) -> bool:
        return self.load > self.limit


@dataclass(frozen=True)
class NominationLine:
    id: int
    reference: str
    name: str
    state: str
    specialty: str
    assigned: int


@dataclass(frozen=True)
class NominationFilters(ListFilters):
    """The overview's list of nominations: all, or those short of reviewers."""

    PER_PAGE: ClassVar[int] = 50
    SORT_KEYS: ClassVar[tuple[str, ...]] = ("assigned", "reference")
    DEFAULT_SORT: ClassVar[str] = "assigned"
    SHOWS: ClassVar[tuple[str, ...]] = ("all", "short")

    show: str = "all"
    specialty: str = ""  # a specialty code

    @classmethod
    def parse(cls, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"show": choice(args.get("show"), cls.SHOWS, "all"),
                "specialty": str(args.get("specialty") or "").strip()[:40]}


@dataclass(frozen=True)
class Overview:
    cycle: Cycle
    setup: ReviewSetup
    loads: list[LoadLine]
    nominations: Page[Any]  # of NominationLine
    filters: NominationFilters
    specialties: list[tuple[str, str]]  # (code, name)
    reviewable: int  # nominations the committee reviews now
    short: int  # of them, with fewer reviewers than wanted
    unnotified: int  # reviewers with dossiers they were not told about

    @property
    def total_load(self) -> int:
        return sum(line.load for line in self.loads)


def _load_lines(cycle_id: int, setup: ReviewSetup) -> list[LoadLine]:
    names = dict(db.session.execute(select(Specialty.code, Specialty.name).where(
        Specialty.cycle_id == cycle_id)).tuples().all())
    members = db.session.execute(
        select(PoolMember, User).join(User, User.id == PoolMember.user_id)
        .where(PoolMember.cycle_id == cycle_id, PoolMember.active.is_(True))
        .order_by(User.name, User.id)).tuples().all()
    counts = {row.reviewer_id: row for row in db.session.execute(
        select(Assignment.reviewer_id, func.count(Assignment.id).label("load"),
               func.count(case((Review.status == ReviewStatus.DRAFT, 1))).label("started"),
               func.count(case((Review.status == ReviewStatus.SUBMITTED, 1)))
               .label("submitted"))
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.cycle_id == cycle_id, Assignment.status == AssignmentStatus.ACTIVE,
               Nomination.state.in_(LOAD_STATES))
        .group_by(Assignment.reviewer_id))}
    lines = []
    for member, user in members:
        row = counts.get(user.id)
        lines.append(LoadLine(
            user=user, specialties=[names.get(c, c) for c in member.specialties or []],
            limit=limit_of(member.load_limit, setup), load=row.load if row else 0,
            started=row.started if row else 0, submitted=row.submitted if row else 0))
    return lines


def _nominations(cycle_id: int, wanted: int, filters: NominationFilters) -> Select[Any]:
    counts = assigned_counts(cycle_id)
    count = func.coalesce(counts.c.assigned, 0)
    query = (select(Nomination.id, Nomination.reference, Nomination.state,
                    (Nomination.given_names + " " + Nomination.family_name).label("name"),
                    Specialty.name.label("specialty"), count.label("assigned"))
             .outerjoin(Specialty, Specialty.id == Nomination.specialty_id)
             .outerjoin(counts, counts.c.nomination_id == Nomination.id)
             .where(Nomination.cycle_id == cycle_id, Nomination.state.in_(REVIEWED_STATES)))
    if filters.show == "short":
        query = query.where(count < wanted)
    if filters.specialty:
        query = query.where(Specialty.code == filters.specialty)
    if filters.sort_key == "reference":
        order = Nomination.reference.desc() if filters.descending else Nomination.reference
        return query.order_by(order, Nomination.id)
    by_count = count.desc() if filters.descending else count
    return query.order_by(by_count, Nomination.id)


def overview(cycle: Cycle, filters: NominationFilters) -> Overview:
    setup = setup_of(cycle.id)
    wanted = setup.reviews_wanted
    page = page_of(_nominations(cycle.id, wanted, filters), filters.page, filters.size,
                   scalars=False)
    page.items = [NominationLine(r.id, r.reference, r.name.strip(), r.state,
                                 r.specialty or "", r.assigned) for r in page.items]
    counts = assigned_counts(cycle.id)
    totals = db.session.execute(
        select(func.count(Nomination.id),
               func.count(case((func.coalesce(counts.c.assigned, 0) < wanted, 1))))
        .outerjoin(counts, counts.c.nomination_id == Nomination.id)
        .where(Nomination.cycle_id == cycle.id, Nomination.state.in_(REVIEWED_STATES))).one()
    specialties = list(db.session.execute(
        select(Specialty.code, Specialty.name).where(Specialty.cycle_id == cycle.id)
        .order_by(Specialty.position, Specialty.id)).tuples())
    return Overview(cycle=cycle, setup=setup, loads=_load_lines(cycle.id, setup),
                    nominations=page, filters=filters, specialties=specialties,
                    reviewable=totals[0], short=totals[1],
                    unnotified=len(unnotified(cycle)))


# -- one nomination ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AssignmentLine:
    assignment: Assignment
    reviewer: User
    review: str  # ReviewState
    excluded: bool  # the review was taken out of the aggregates (a conflict found later)
    conflicted: bool  # a conflict holds it back now


@dataclass(frozen=True)
class NominationAssignments:
    nomination: Nomination
    cycle: Cycle
    institution: Institution
    specialty: str
    wanted: int
    lines: list[AssignmentLine]
    candidates: list[Candidate]  # who may be added now
    suggestions: list[Candidate]  # of them, the best replacements (spare load)

    @property
    def live(self) -> int:
        return sum(1 for line in self.lines
                   if line.assignment.status == AssignmentStatus.ACTIVE and not line.conflicted)

    @property
    def needs_replacement(self) -> bool:
        """A reviewer declined, or a conflict holds one back, or reviewers are missing."""
        return self.live < self.wanted or any(
            line.assignment.status == AssignmentStatus.DECLINED or line.conflicted
            for line in self.lines)


def nomination_assignments(nomination: Nomination) -> NominationAssignments:
    cycle = db.session.get(Cycle, nomination.cycle_id)
    institution = db.session.get(Institution, nomination.institution_id)
    assert cycle is not None and institution is not None  # foreign keys
    specialty = db.session.scalar(select(Specialty.name).where(
        Specialty.id == nomination.specialty_id)) if nomination.specialty_id else None
    rows = db.session.execute(
        select(Assignment, User, Review.status, Review.excluded_at,
               blocking_conflict(Assignment.reviewer_id).label("conflicted"))
        .join(User, User.id == Assignment.reviewer_id)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.nomination_id == nomination.id)
        .order_by(Assignment.status, User.name, Assignment.id)).tuples().all()
    lines = [AssignmentLine(a, u, status or ReviewState.NEW, excluded is not None,
                            bool(conflicted))
             for a, u, status, excluded, conflicted in rows]
    found = candidates(nomination)
    return NominationAssignments(
        nomination=nomination, cycle=cycle, institution=institution,
        specialty=specialty or "", wanted=setup_of(cycle.id).reviews_wanted, lines=lines,
        candidates=found, suggestions=[c for c in found if c.spare > 0][:5])


# -- one reviewer -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewerLine:
    assignment: Assignment
    reference: str
    name: str
    state: str
    specialty: str
    review: str  # ReviewState


@dataclass(frozen=True)
class Option:
    nomination_id: int
    reference: str
    name: str
    specialty: str
    assigned: int
    matches: bool


@dataclass(frozen=True)
class ReviewerAssignments:
    cycle: Cycle
    reviewer: User
    member: PoolMember | None  # None: not (or no longer) in the active pool
    specialties: list[str]
    load: int
    limit: int
    wanted: int
    lines: list[ReviewerLine]
    options: list[Option]  # nominations that may be given to the reviewer now


def reviewer_assignments(cycle: Cycle, reviewer: User) -> ReviewerAssignments:
    setup = setup_of(cycle.id)
    member = pool_member(cycle.id, reviewer.id)
    names = dict(db.session.execute(select(Specialty.code, Specialty.name).where(
        Specialty.cycle_id == cycle.id)).tuples().all())
    rows = db.session.execute(
        select(Assignment, Nomination.reference, Nomination.state,
               (Nomination.given_names + " " + Nomination.family_name).label("name"),
               Specialty.name.label("specialty"), Review.status)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .outerjoin(Specialty, Specialty.id == Nomination.specialty_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.cycle_id == cycle.id, Assignment.reviewer_id == reviewer.id)
        .order_by(Assignment.status, Nomination.reference)).tuples().all()
    lines = [ReviewerLine(a, ref, name.strip(), state, spec or "", status or ReviewState.NEW)
             for a, ref, state, name, spec, status in rows]
    codes = set(member.specialties or []) if member else set()
    options: list[Option] = []
    if member is not None:
        taken = select(Assignment.nomination_id).where(
            Assignment.reviewer_id == reviewer.id, Assignment.cycle_id == cycle.id,
            Assignment.status == AssignmentStatus.ACTIVE)
        counts = assigned_counts(cycle.id)
        count = func.coalesce(counts.c.assigned, 0)
        for row in db.session.execute(
                select(Nomination.id, Nomination.reference, Specialty.code,
                       Specialty.name.label("specialty"), count.label("assigned"),
                       (Nomination.given_names + " " + Nomination.family_name).label("name"))
                .outerjoin(Specialty, Specialty.id == Nomination.specialty_id)
                .outerjoin(counts, counts.c.nomination_id == Nomination.id)
                .where(Nomination.cycle_id == cycle.id,
                       Nomination.state.in_(REVIEWED_STATES),
                       Nomination.id.not_in(taken), ~blocking_conflict(reviewer.id))
                .order_by(count, Nomination.reference)):
            options.append(Option(row.id, row.reference, row.name.strip(),
                                  row.specialty or "", row.assigned, row.code in codes))
        options.sort(key=lambda o: (not o.matches, o.assigned, o.reference))
    return ReviewerAssignments(
        cycle=cycle, reviewer=reviewer, member=member,
        specialties=[names.get(c, c) for c in sorted(codes)],
        load=loads(cycle.id, [reviewer.id]).get(reviewer.id, 0),
        limit=limit_of(member.load_limit if member else None, setup),
        wanted=setup.reviews_wanted, lines=lines, options=options)


# -- labels -----------------------------------------------------------------------------------

ASSIGNMENT_LABELS: dict[str, LazyString] = {
    AssignmentStatus.ACTIVE: _l("Assigned"),
    AssignmentStatus.DECLINED: _l("Declined"),
    AssignmentStatus.REMOVED: _l("Removed"),
}
ENDED_LABELS: dict[str, LazyString] = {
    EndedBy.REVIEWER: _l("by the reviewer"),
    EndedBy.STAFF: _l("by staff"),
    EndedBy.AUTO: _l("replaced by an automatic assignment"),
    EndedBy.SYSTEM: _l("a conflict of interest was found"),
}
REVIEW_LABELS: dict[str, LazyString] = {
    ReviewState.NEW: _l("Not started"),
    ReviewState.DRAFT: _l("Draft"),
    ReviewState.SUBMITTED: _l("Submitted"),
}
SOURCE_LABELS: dict[str, LazyString] = {"manual": _l("by hand"), "auto": _l("automatic")}


def labels() -> dict[str, Any]:
    """The labels every assignment template uses."""
    return {"assignment_labels": ASSIGNMENT_LABELS, "ended_labels": ENDED_LABELS,
            "review_labels": REVIEW_LABELS, "source_labels": SOURCE_LABELS,
            "state_labels": STATE_LABELS}
