"""The automatic assignment from the database (portal.review.assignment): preview, apply,
stale previews, kept reviews, conflicts, and the mail each reviewer gets. Manual changes
and replacements (portal.review.manual)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.cycles.models import Cycle
from portal.errors import Conflict, PortalError
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.models import Nomination, NominationState
from portal.notify.models import OutboxMessage
from portal.review import assign_preview, assignment, manual, solver
from portal.review.models import (
    Assignment,
    AssignmentStatus,
    ConflictStatus,
    EndedBy,
    PoolMember,
    Review,
    ReviewStatus,
)
from portal.transaction import run_unit
from tests.factories import Factory
from tests.nominations.factories import make_cycle, make_nomination
from tests.review.factories import add_to_pool, assign, make_conflict, make_review, make_setup


@dataclass
class World:
    cycle: Cycle
    staff: User
    institutions: list[Institution]
    nominations: list[Nomination]
    reviewers: list[User]


def make_world(factory: Factory, *, nominations: int = 4, reviewers: int = 3,
               wanted: int = 2, load: int = 5) -> World:
    """Nominations alternate cardiology / radiology and institutions 0 / 1; reviewers
    alternate cardiology / radiology specialists."""
    cycle = make_cycle()
    make_setup(cycle, reviews_wanted=wanted, default_load=load)
    institutions = [factory.institution(country="MY"), factory.institution(country="VN")]
    specialties = ["cardiology", "radiology"]
    noms = [make_nomination(cycle, institutions[i % 2], state=NominationState.SUBMITTED,
                            specialty=specialties[i % 2], documents=(), confirmed=False,
                            family_name=f"Hidden{i}")
            for i in range(nominations)]
    people = [factory.reviewer(name=f"Reviewer {i}", language="ja" if i == 0 else "en")
              for i in range(reviewers)]
    for i, person in enumerate(people):
        add_to_pool(cycle, person, specialties=[specialties[i % 2]])
    return World(cycle, factory.staff(), institutions, noms, people)


def live(cycle: Cycle) -> list[Assignment]:
    return list(db.session.scalars(select(Assignment).where(
        Assignment.cycle_id == cycle.id, Assignment.status == AssignmentStatus.ACTIVE)
        .order_by(Assignment.id)))


def run_apply(w: World, *, replace_unstarted: bool = False) -> assignment.Applied:
    preview = assign_preview.preview(w.cycle, replace_unstarted=replace_unstarted)
    db.session.commit()
    return run_unit(assignment.apply, w.cycle, preview.token, w.staff)


def test_apply_assigns_the_wanted_reviews_moves_nominations_and_mails_each_reviewer_once(
        db_session: object, factory: Factory) -> None:
    w = make_world(factory)
    preview = assign_preview.preview(w.cycle)
    assert preview.added == 8 and not preview.shortfalls and preview.connected
    # Reviewer 1, the only radiologist, takes one review of each radiology nomination;
    # their second reviews go to the two cardiologists, one each.
    assert [r.after for r in preview.reviewers] == [3, 2, 3]
    assert preview.matched_share == pytest.approx(6 / 8)
    db.session.commit()
    assert live(w.cycle) == []  # a preview changes nothing
    done = run_unit(assignment.apply, w.cycle, preview.token, w.staff)
    assert (done.added, done.moved, done.mailed) == (8, 4, 3)
    rows = live(w.cycle)
    assert Counter(a.nomination_id for a in rows) == {n.id: 2 for n in w.nominations}
    assert {a.source for a in rows} == {"auto"} and all(a.notified_at for a in rows)
    assert {n.state for n in db.session.scalars(select(Nomination))} == {
        NominationState.UNDER_REVIEW}
    mails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert Counter(m.to_addr for m in mails) == {r.email: 1 for r in w.reviewers}
    japanese = next(m for m in mails if m.to_addr == w.reviewers[0].email)
    assert japanese.language == "ja"
    # Mails to reviewers carry no candidate facts.
    assert not any("Hidden" in m.body_text or w.institutions[0].name in m.body_text
                   for m in mails)
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "review.assignment.applied")) is not None
    # Nothing left to do: the next preview changes nothing.
    again = assign_preview.preview(w.cycle)
    assert again.changes == 0 and again.kept == 8


def test_conflicted_reviewers_are_never_assigned(db_session: object,
                                                 factory: Factory) -> None:
    w = make_world(factory, reviewers=4)
    make_conflict(w.cycle, w.reviewers[0], institution=w.institutions[0])
    make_conflict(w.cycle, w.reviewers[1], nomination=w.nominations[1],
                  status=ConflictStatus.TO_CONFIRM)
    make_conflict(w.cycle, w.reviewers[2], country="VN", status=ConflictStatus.DISMISSED)
    run_apply(w)
    pairs = {(a.nomination_id, a.reviewer_id) for a in live(w.cycle)}
    for n in w.nominations:
        if n.institution_id == w.institutions[0].id:
            assert (n.id, w.reviewers[0].id) not in pairs
    assert (w.nominations[1].id, w.reviewers[1].id) not in pairs  # to confirm blocks too
    assert len(pairs) == 8  # and every nomination still has its two reviewers


def test_a_preview_made_stale_by_a_change_is_refused(db_session: object,
                                                    factory: Factory) -> None:
    w = make_world(factory)
    preview = assign_preview.preview(w.cycle)
    # Someone declares a conflict in between.
    make_conflict(w.cycle, w.reviewers[2], institution=w.institutions[1])
    with pytest.raises(Conflict) as refused:
        run_unit(assignment.apply, w.cycle, preview.token, w.staff)
    assert refused.value.status == 409 and refused.value.code == "stale"
    assert live(w.cycle) == [] and db.session.scalars(select(OutboxMessage)).all() == []
    # A changed load limit, too.
    preview = assign_preview.preview(w.cycle)
    db.session.commit()
    member = db.session.scalars(select(PoolMember).where(
        PoolMember.user_id == w.reviewers[0].id)).one()
    member.load_limit = 1
    db.session.commit()
    with pytest.raises(Conflict):
        run_unit(assignment.apply, w.cycle, preview.token, w.staff)
    # A token of another cycle, or a tampered one, is refused.
    with pytest.raises(PortalError):
        run_unit(assignment.apply, make_cycle(), preview.token, w.staff)
    with pytest.raises(PortalError):
        run_unit(assignment.apply, w.cycle, preview.token + "x", w.staff)


def test_started_and_submitted_reviews_are_kept_and_unstarted_ones_replaced_on_request(
        db_session: object, factory: Factory) -> None:
    w = make_world(factory, nominations=4, reviewers=3, wanted=1, load=4)
    # Reviewer 0 holds every nomination: two started, one submitted, one unstarted.
    held = [assign(n, w.reviewers[0]) for n in w.nominations]
    make_review(held[0], status=ReviewStatus.DRAFT)
    make_review(held[1], status=ReviewStatus.SUBMITTED)
    kept = assign_preview.preview(w.cycle)
    assert kept.changes == 0 and kept.kept == 4  # active assignments are kept
    done = run_apply(w, replace_unstarted=True)
    # Even loads: the two unstarted ones go to the others (one each).
    assert done.removed == 2 and done.added == 2
    by_reviewer = Counter(a.reviewer_id for a in live(w.cycle))
    assert by_reviewer == {r.id: 1 for r in w.reviewers[1:]} | {w.reviewers[0].id: 2}
    statuses = {a.id: (a.status, a.ended_by) for a in db.session.scalars(select(Assignment))}
    assert statuses[held[0].id] == (AssignmentStatus.ACTIVE, "")
    assert statuses[held[1].id] == (AssignmentStatus.ACTIVE, "")
    assert statuses[held[2].id] == (AssignmentStatus.REMOVED, EndedBy.AUTO)
    assert len(db.session.scalars(select(Review)).all()) == 2  # no review lost
    # The reviewer who lost two dossiers is told, once.
    assert len(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_addr == w.reviewers[0].email)).all()) == 1


def test_declined_and_staff_removed_pairs_are_not_added_back_automatically(
        db_session: object, factory: Factory) -> None:
    w = make_world(factory, nominations=1, reviewers=4, wanted=3)
    n = w.nominations[0]
    assign(n, w.reviewers[0], status=AssignmentStatus.DECLINED, ended_by=EndedBy.REVIEWER)
    assign(n, w.reviewers[1], status=AssignmentStatus.REMOVED, ended_by=EndedBy.STAFF)
    replaced = assign(n, w.reviewers[2], status=AssignmentStatus.REMOVED,
                      ended_by=EndedBy.AUTO)
    preview = assign_preview.preview(w.cycle)
    assert preview.reactivated == 1 and preview.added == 1
    assert [(s.missing, s.reason) for s in preview.shortfalls] == [(1, solver.CONFLICTS)]
    db.session.commit()
    run_unit(assignment.apply, w.cycle, preview.token, w.staff)
    assert {a.reviewer_id for a in live(w.cycle)} == {w.reviewers[2].id, w.reviewers[3].id}
    db.session.refresh(replaced)
    assert replaced.status == AssignmentStatus.ACTIVE and replaced.source == "auto"


def test_the_preview_says_why_a_nomination_cannot_get_its_reviews(
        db_session: object, factory: Factory) -> None:
    w = make_world(factory, nominations=3, reviewers=2, wanted=2, load=1)
    make_conflict(w.cycle, w.reviewers[0], nomination=w.nominations[0])
    make_conflict(w.cycle, w.reviewers[1], nomination=w.nominations[0])
    preview = assign_preview.preview(w.cycle)
    reasons = {s.reference: s.reason for s in preview.shortfalls}
    assert reasons[w.nominations[0].reference] == solver.CONFLICTS
    assert "Every reviewer" in str(next(
        s.reason_text for s in preview.shortfalls
        if s.reference == w.nominations[0].reference))
    assert set(reasons.values()) <= {solver.CONFLICTS, solver.CAPACITY}
    assert solver.CAPACITY in reasons.values()
    assert all(r.after <= r.limit for r in preview.reviewers)


def test_assign_now_writes_what_a_preview_would_show(db_session: object,
                                                    factory: Factory) -> None:
    w = make_world(factory)
    shown = assign_preview.preview(w.cycle)
    done = run_unit(assignment.assign_now, w.cycle, w.staff)
    assert done.added == shown.added == 8 and len(live(w.cycle)) == 8


def test_hooks_run_before_every_preview_and_apply(db_session: object,
                                                  factory: Factory) -> None:
    w = make_world(factory)
    seen: list[int] = []
    assignment.register_before_assignment(lambda cycle: seen.append(cycle.id))
    try:
        run_apply(w)
    finally:
        assignment.BEFORE_ASSIGNMENT.pop()
    assert seen == [w.cycle.id, w.cycle.id]


# -- by hand -----------------------------------------------------------------------------------

def test_manual_add_refuses_a_conflict_always_and_the_load_limit_unless_told(
        db_session: object, factory: Factory) -> None:
    w = make_world(factory, load=1)
    reviewer = w.reviewers[0]
    make_conflict(w.cycle, reviewer, institution=w.institutions[1])
    with pytest.raises(PortalError) as refused:
        run_unit(manual.add, w.nominations[1], reviewer, w.staff, over_limit=True)
    assert refused.value.code == "conflict" and refused.value.status == 422
    run_unit(manual.add, w.nominations[0], reviewer, w.staff)
    with pytest.raises(PortalError) as refused:
        run_unit(manual.add, w.nominations[2], reviewer, w.staff)
    assert refused.value.code == "load_limit"
    run_unit(manual.add, w.nominations[2], reviewer, w.staff, over_limit=True)
    assert {a.nomination_id for a in live(w.cycle)} == {w.nominations[0].id,
                                                        w.nominations[2].id}
    with pytest.raises(Conflict):  # twice: already done
        run_unit(manual.add, w.nominations[0], reviewer, w.staff, over_limit=True)
    db.session.refresh(w.nominations[0])
    assert w.nominations[0].state == NominationState.UNDER_REVIEW
    # Told by mail each time (tell=True by default).
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 2


def test_manual_remove_keeps_a_started_review_and_staff_can_add_back(
        db_session: object, factory: Factory) -> None:
    w = make_world(factory)
    row = assign(w.nominations[0], w.reviewers[0])
    make_review(row, status=ReviewStatus.DRAFT)
    assert run_unit(manual.remove, row, w.staff) is True
    db.session.refresh(row)
    assert (row.status, row.ended_by) == (AssignmentStatus.REMOVED, EndedBy.STAFF)
    assert db.session.scalar(select(Review).where(Review.assignment_id == row.id))
    with pytest.raises(Conflict):
        run_unit(manual.remove, row, w.staff)
    # The automatic assignment leaves the pair alone; staff can add it back by hand.
    assert (w.nominations[0].id, w.reviewers[0].id) not in {
        (a.nomination_id, a.reviewer_id) for a in live(w.cycle)}
    run_unit(manual.add, w.nominations[0], w.reviewers[0], w.staff, tell=False)
    db.session.refresh(row)
    assert row.status == AssignmentStatus.ACTIVE


def test_suggested_replacements_have_no_conflict_spare_load_and_specialty_first(
        db_session: object, factory: Factory) -> None:
    w = make_world(factory, reviewers=5, load=2)
    n = w.nominations[0]  # cardiology: reviewers 0, 2, 4
    assign(n, w.reviewers[0], status=AssignmentStatus.DECLINED, ended_by=EndedBy.REVIEWER)
    make_conflict(w.cycle, w.reviewers[2], institution=w.institutions[0])
    for other in w.nominations[1:3]:
        assign(other, w.reviewers[1])  # reviewer 1 is full
    names = [c.user.name for c in manual.suggest_replacements(n)]
    assert names == ["Reviewer 4", "Reviewer 3"]
