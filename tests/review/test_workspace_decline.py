"""Declining an assignment, declaring a conflict on a dossier, and what a reviewer keeps
after the decisions are published."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.extensions import db
from portal.notify.models import OutboxMessage
from portal.review.models import (
    AssignmentStatus,
    Conflict,
    ConflictSource,
    ConflictStatus,
    Review,
)
from tests.conftest import login
from tests.factories import Factory
from tests.review.factories import ReviewCycle, make_review_cycle


@pytest.fixture
def rc(factory: Factory) -> ReviewCycle:
    return make_review_cycle(factory)


def _staff_mail(rc: ReviewCycle) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_addr == rc.staff.email)))


def test_a_reviewer_declines_with_a_reason_and_staff_are_told(client: FlaskClient,
                                                              rc: ReviewCycle) -> None:
    nomination = rc.nominations[0]
    login(client, rc.reviewers[0])
    assert client.get(f"/review/{nomination.id}/decline").status_code == 200
    assert client.post(f"/review/{nomination.id}/decline", data={"reason": ""}
                       ).status_code == 422
    response = client.post(f"/review/{nomination.id}/decline",
                           data={"reason": "Travelling during the review."})
    assert response.status_code == 303
    assignment = rc.assignment(0, 0)
    db.session.refresh(assignment)
    assert assignment.status == AssignmentStatus.DECLINED
    assert assignment.declined_reason == "Travelling during the review."
    assert client.get(f"/review/{nomination.id}").status_code == 404
    mail = _staff_mail(rc)
    assert len(mail) == 1 and nomination.reference in mail[0].subject
    assert "Travelling during the review." in mail[0].body_text
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "review.assignment_declined")) is not None


def test_a_submitted_review_cannot_be_declined(client: FlaskClient, rc: ReviewCycle) -> None:
    login(client, rc.reviewers[0])
    response = client.post(f"/review/{rc.nominations[2].id}/decline",
                           data={"reason": "Changed my mind."})
    assert response.status_code == 303  # back to the form, with the message
    db.session.refresh(rc.assignment(2, 0))
    assert rc.assignment(2, 0).status == AssignmentStatus.ACTIVE
    assert _staff_mail(rc) == []


def test_a_conflict_declared_on_a_dossier_takes_it_out_at_once(client: FlaskClient,
                                                               rc: ReviewCycle) -> None:
    nomination = rc.nominations[2]  # reviewer 0 submitted a review of it
    login(client, rc.reviewers[0])
    response = client.post(f"/review/{nomination.id}/conflict",
                           data={"kind": "personal", "note": "My cousin."})
    assert response.status_code == 303
    for url in (f"/review/{nomination.id}", f"/review/{nomination.id}/decline"):
        assert client.get(url).status_code == 404
    assert client.post(f"/review/{nomination.id}/autosave",
                       data={"revision": "9"}).status_code == 404
    assert client.post(f"/review/{nomination.id}/discussion",
                       data={"body": "Hello"}).status_code == 404
    conflict = db.session.scalar(select(Conflict).where(
        Conflict.nomination_id == nomination.id, Conflict.reviewer_id == rc.reviewers[0].id))
    assert conflict is not None and conflict.source == ConflictSource.DOSSIER
    assert conflict.status == ConflictStatus.ACTIVE and conflict.note == "My cousin."
    db.session.refresh(rc.assignment(2, 0))
    assert rc.assignment(2, 0).status == AssignmentStatus.REMOVED
    review = db.session.get(Review, rc.review(2, 0).id)
    assert review is not None and review.excluded_at is not None  # out of the aggregates
    mail = _staff_mail(rc)
    assert len(mail) == 1 and "A personal or family relation" in mail[0].body_text


def test_after_the_decisions_reviewers_keep_only_their_own_reviews(client: FlaskClient,
                                                                   rc: ReviewCycle) -> None:
    rc.setup.decisions_published_at = utcnow()
    db.session.commit()
    login(client, rc.reviewers[0])
    assert "dossiers are closed to reviewers" in client.get("/review").get_data(as_text=True)
    assert client.get(f"/review/{rc.nominations[2].id}").status_code == 404
    mine = client.get("/review/mine").get_data(as_text=True)
    own = rc.review(2, 0)
    assert f"/review/mine/{own.id}" in mine and f"/review/mine/{rc.review(1, 0).id}" in mine
    page = client.get(f"/review/mine/{own.id}")
    assert page.status_code == 200 and "Solid candidate." in page.get_data(as_text=True)
    assert client.get(f"/review/mine/{rc.review(2, 1).id}").status_code == 404  # another's
