"""Conflicts of interest: declared up front (also in a blind cycle), entered by staff,
found by the portal (own institution, alumni, affiliation, e-mail domain), confirmed or
dismissed by staff; a conflict takes effect at once, also after a review was submitted."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.alumni.models import Alumnus
from portal.errors import Conflict as ConflictError
from portal.extensions import db
from portal.review import conflicts, policy
from portal.review.models import (
    Assignment,
    AssignmentStatus,
    Conflict,
    ConflictSource,
    ConflictStatus,
)
from tests.factories import Factory
from tests.review.factories import BLIND_ALL, ReviewCycle, add_to_pool, make_review_cycle


def _visible(rc: ReviewCycle, reviewer_index: int) -> set[int]:
    user = rc.reviewers[reviewer_index]
    return {n.id for _a, n in db.session.execute(policy.assignments_visible_to(user)).all()}


def _found(rc: ReviewCycle, reviewer_id: int) -> list[tuple[int | None, str, str]]:
    return sorted((c.institution_id, c.status, c.reason_code) for c in db.session.scalars(
        select(Conflict).where(Conflict.cycle_id == rc.cycle.id,
                               Conflict.reviewer_id == reviewer_id,
                               Conflict.source == ConflictSource.AUTOMATIC)))


def test_a_reviewer_declares_conflicts_up_front_in_a_blind_cycle(
        client: FlaskClient, factory: Factory, login_as: Callable[..., object]) -> None:
    rc = make_review_cycle(factory, blind=BLIND_ALL)
    a, b = rc.institutions
    login_as(rc.reviewers[0])
    page = client.get(f"/review/cycles/{rc.cycle.id}/conflicts").text
    assert a.name in page and b.name in page and "Review in this cycle is blind" in page
    assert rc.nominations[0].family_name not in page  # institutions, never candidates
    assert _visible(rc, 0) == {rc.nominations[i].id for i in (0, 1, 2)}

    response = client.post(f"/review/cycles/{rc.cycle.id}/conflicts", data={
        f"inst-{b.id}": "1", f"kind-{b.id}": "former_colleague", f"note-{b.id}": "Trained there"})
    assert response.status_code == 303
    assert _visible(rc, 0) == {rc.nominations[i].id for i in (0, 1)}  # at once
    # Nomination 2 (institution B) had a submitted review: out of every aggregate.
    db.session.expire_all()
    removed = db.session.get(Assignment, rc.assignment(2, 0).id)
    assert removed is not None and removed.status == AssignmentStatus.REMOVED
    assert removed.removed_by_conflict_id is not None
    review = rc.review(2, 0)
    db.session.refresh(review)
    assert review.excluded_at is not None and not review.counts
    member = rc.member(rc.reviewers[0])
    db.session.refresh(member)
    assert member.conflicts_declared_at is not None
    page = client.get(f"/review/cycles/{rc.cycle.id}/conflicts").text
    assert "You answered on" in page and "Trained there" in page


def test_no_conflict_is_an_answer_too(client: FlaskClient, factory: Factory,
                                      login_as: Callable[..., object]) -> None:
    rc = make_review_cycle(factory)
    login_as(rc.reviewers[1])
    assert client.post(f"/review/cycles/{rc.cycle.id}/conflicts", data={}).status_code == 303
    member = rc.member(rc.reviewers[1])
    db.session.refresh(member)
    assert member.conflicts_declared_at is not None
    assert conflicts.declared_by(rc.cycle.id, rc.reviewers[1].id) == []


def test_only_the_pool_declares(client: FlaskClient, factory: Factory,
                                login_as: Callable[..., object]) -> None:
    rc = make_review_cycle(factory)
    login_as(factory.reviewer())  # a reviewer of no pool
    assert client.get(f"/review/cycles/{rc.cycle.id}/conflicts").status_code == 404
    login_as(rc.reviewers[0])
    response = client.post(f"/review/cycles/{rc.cycle.id}/conflicts",
                           data={"inst-999999": "1"})
    assert response.status_code == 303  # refused, back to the page with the message
    assert "Choose institutions from the list." in client.get(response.headers["Location"]).text


def test_the_portal_finds_conflicts_and_staff_answers_stick(factory: Factory) -> None:
    rc = make_review_cycle(factory)
    a, b = rc.institutions
    a.head_email = "director@moh.gov.my"
    factory.nominator(b, email="clerk@hanoi-hospital.vn")
    factory.nominator(a, email="someone@gmail.com")
    reviewer = factory.reviewer(email="prof@moh.gov.my", institution=b)
    public = factory.reviewer(email="doctor@gmail.com")
    alumna = factory.reviewer(email="alumna@uni.example.net")
    typed = factory.reviewer(email="typed@elsewhere.example.net")
    db.session.add(Alumnus(user_id=alumna.id, family_name="Ng", nomination_id=rc.nominations[2].id,
                           institution_now=f"  {a.name.upper()} "))
    db.session.commit()
    for user in (reviewer, public, alumna):
        add_to_pool(rc.cycle, user)
    add_to_pool(rc.cycle, typed, affiliation_name=b.name.lower(), affiliation_country="VN")

    assert conflicts.refresh_automatic(rc.cycle) == 5
    assert _found(rc, reviewer.id) == sorted([
        (b.id, ConflictStatus.ACTIVE, "own_institution"),
        (a.id, ConflictStatus.TO_CONFIRM, "email_domain:moh.gov.my")])
    assert _found(rc, public.id) == []  # a public provider says nothing
    assert _found(rc, alumna.id) == sorted([
        (b.id, ConflictStatus.ACTIVE, "alumnus_institution"),  # the nomination they came from
        (a.id, ConflictStatus.TO_CONFIRM, "alumnus_institution_text")])
    assert _found(rc, typed.id) == [(b.id, ConflictStatus.TO_CONFIRM, "affiliation_text")]

    match = db.session.scalar(select(Conflict).where(
        Conflict.reviewer_id == reviewer.id, Conflict.reason_code.startswith("email_domain")))
    assert match is not None
    staff = rc.staff
    conflicts.decide(match, "dismiss", staff)
    assert conflicts.refresh_automatic(rc.cycle) == 0  # a dismissed match is not raised again
    db.session.refresh(match)
    assert match.status == ConflictStatus.DISMISSED and match.decided_by_id == staff.id
    with pytest.raises(ConflictError) as info:
        conflicts.decide(match, "dismiss", staff)
    assert info.value.code == "already_done"


def test_a_match_blocks_until_dismissed_and_dismissing_gives_the_dossier_back(
        factory: Factory) -> None:
    rc = make_review_cycle(factory)
    a = rc.institutions[0]
    # Reviewer A's address shares a domain with institution A's head: found while assigned.
    a.head_email = "head@kl-general.example.my"
    rc.reviewers[0].email = "reviewer@kl-general.example.my"
    db.session.commit()
    assert conflicts.refresh_automatic(rc.cycle) == 1
    assert _visible(rc, 0) == {rc.nominations[2].id}  # to confirm blocks like active
    match = db.session.scalar(select(Conflict).where(Conflict.reviewer_id == rc.reviewers[0].id,
                                                     Conflict.source == "automatic"))
    assert match is not None
    # Back: nominations 0, 1 and 5 (withdrawn, so still out of the queue).
    assert conflicts.decide(match, "dismiss", rc.staff) == 3
    assert _visible(rc, 0) == {rc.nominations[i].id for i in (0, 1, 2)}
    conflicts.decide(match, "reinstate", rc.staff)
    assert _visible(rc, 0) == {rc.nominations[2].id}


def test_staff_enter_a_conflict_on_one_nomination(client: FlaskClient, factory: Factory,
                                                  login_as: Callable[..., object]) -> None:
    rc = make_review_cycle(factory)
    login_as(rc.staff)
    target = rc.nominations[1]
    response = client.post(f"/staff/review/{rc.cycle.id}/conflicts", data={
        "reviewer_id": str(rc.reviewers[1].id), "kind": "personal", "target": "nomination",
        "nomination_id": str(target.id), "note": "Cousin"})
    assert response.status_code == 303
    flashed = client.get(response.headers["Location"]).text
    assert "1 assignment was removed" in flashed and "Cousin" in flashed
    assert rc.nominations[1].id not in {n.id for _a, n in db.session.execute(
        policy.assignments_visible_to(rc.reviewers[1])).all()}
    again = client.post(f"/staff/review/{rc.cycle.id}/conflicts", data={
        "reviewer_id": str(rc.reviewers[1].id), "kind": "personal", "target": "nomination",
        "nomination_id": str(target.id)})
    assert again.status_code == 303  # already recorded: said, nothing added
    assert "This conflict is already recorded." in client.get(again.headers["Location"]).text
    missing = client.post(f"/staff/review/{rc.cycle.id}/conflicts", data={
        "reviewer_id": str(rc.reviewers[1].id), "kind": "personal", "target": "country"})
    assert missing.status_code == 422 and "Choose one." in missing.text


def test_reviewers_see_only_their_own_declarations(client: FlaskClient, factory: Factory,
                                                   login_as: Callable[..., object]) -> None:
    rc = make_review_cycle(factory)
    rc.reviewers[0].institution_id = rc.institutions[1].id
    db.session.commit()
    conflicts.refresh_automatic(rc.cycle)
    db.session.commit()
    login_as(rc.reviewers[0])
    page = client.get(f"/review/cycles/{rc.cycle.id}/conflicts").text
    # The portal's finding (their own institution B) is not shown as theirs, nor its rule.
    assert f'name="inst-{rc.institutions[1].id}"' in page and "Declared" not in page
    assert "You answered" not in page
