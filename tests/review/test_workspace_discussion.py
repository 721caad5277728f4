"""The committee's discussion of a dossier: who reads and writes, how authors are shown,
and the batched mail about new posts (blind-safe)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.db import utcnow
from portal.errors import NotYours
from portal.extensions import db
from portal.notify.models import OutboxMessage
from portal.review import discussion
from portal.threads import services as threads
from portal.threads.models import Post
from tests.conftest import login
from tests.factories import Factory
from tests.review.factories import BLIND_ALL, ReviewCycle, make_review_cycle


@pytest.fixture
def rc(factory: Factory) -> ReviewCycle:
    made = make_review_cycle(factory)
    # Names that cannot be mistaken for the anonymous labels ("Reviewer A").
    for user, name in zip(made.reviewers, ("Dr Alpha", "Dr Beta", "Dr Gamma"), strict=True):
        user.name = name
    db.session.commit()
    return made


def _mails(to: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_addr == to)
                                   .order_by(OutboxMessage.id)))


def test_reviewers_who_submitted_discuss_and_staff_join(client: FlaskClient,
                                                        rc: ReviewCycle) -> None:
    nomination = rc.nominations[2]  # submitted by reviewers 0 (A) and 1 (B)
    login(client, rc.reviewers[0])
    response = client.post(f"/review/{nomination.id}/discussion",
                           data={"body": "Her English evidence is old."})
    assert response.status_code == 303
    fragment = client.post(f"/review/{nomination.id}/discussion",
                           data={"body": "And the plan is vague."}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="thread-committee-')
    assert "You (Reviewer A)" in text and "And the plan is vague." in text

    client.post("/logout")
    login(client, rc.staff)
    staff_page = client.get(f"/staff/review/nominations/{nomination.id}/discussion")
    assert f"Reviewer A ({rc.reviewers[0].name})" in staff_page.get_data(as_text=True)
    client.post(f"/staff/review/nominations/{nomination.id}/discussion",
                data={"body": "Please weigh the institution's need."})

    client.post("/logout")
    login(client, rc.reviewers[1])
    page = client.get(f"/review/{nomination.id}").get_data(as_text=True)
    assert "Her English evidence is old." in page
    assert "Reviewer A" in page and rc.reviewers[0].name not in page
    assert "Program staff" in page and rc.staff.name not in page


def test_no_discussion_before_ones_own_review_or_with_a_conflict(client: FlaskClient,
                                                                 rc: ReviewCycle) -> None:
    nomination = rc.nominations[1]  # reviewer 0 has a draft; reviewer 1 submitted
    threads.post(discussion.AUDIENCE, nomination.id, rc.reviewers[1], "Strong candidate.")
    db.session.commit()
    login(client, rc.reviewers[0])
    page = client.get(f"/review/{nomination.id}").get_data(as_text=True)
    assert "Strong candidate." not in page
    assert "open once you have submitted your own review" in page
    assert client.post(f"/review/{nomination.id}/discussion",
                       data={"body": "Me too"}).status_code == 404
    with pytest.raises(NotYours):
        threads.view(discussion.AUDIENCE, nomination.id, rc.conflicted)
    with pytest.raises(NotYours):
        threads.post(discussion.AUDIENCE, rc.nominations[0].id, rc.conflicted, "Hello")
    assert db.session.scalar(select(Post).where(Post.body == "Me too")) is None


def test_new_posts_are_mailed_in_batches_and_blind(factory: Factory) -> None:
    rc = make_review_cycle(factory, blind=BLIND_ALL)
    nomination = rc.nominations[2]
    author, reader = rc.reviewers[0], rc.reviewers[1]
    author.name = "Dr Alpha"
    start = utcnow()
    threads.post(discussion.AUDIENCE, nomination.id, author, "First thought.")
    threads.post(discussion.AUDIENCE, nomination.id, author, "Second thought.")
    db.session.commit()
    assert threads.send_due(start + timedelta(minutes=5)) == 0  # still gathering
    assert threads.send_due(start + timedelta(minutes=16)) == 1  # one mail, both posts
    db.session.commit()
    mails = _mails(reader.email)
    assert len(mails) == 1 and _mails(author.email) == []
    body = mails[0].body_text
    assert "First thought." in body and "Second thought." in body
    assert f"Candidate {nomination.reference}" in mails[0].subject
    for hidden in (nomination.family_name, nomination.given_names, nomination.native_name,
                   rc.institutions[1].name, author.name):
        assert hidden not in body and hidden not in mails[0].subject
    assert f"/review/{nomination.id}#discussion" in body
    assert threads.send_due(start + timedelta(minutes=30)) == 0  # nothing new

    # A later post waits the window again; one the reader has read is never mailed.
    threads.post(discussion.AUDIENCE, nomination.id, author, "Third thought.")
    db.session.commit()
    assert threads.send_due(utcnow() + timedelta(minutes=16)) == 1
    threads.post(discussion.AUDIENCE, nomination.id, author, "Fourth thought.")
    threads.view(discussion.AUDIENCE, nomination.id, reader)  # read on the page
    db.session.commit()
    assert threads.send_due(utcnow() + timedelta(minutes=16)) == 0
    assert [("Third thought." in m.body_text) for m in _mails(reader.email)] == [False, True]


def test_unread_counts_show_in_the_queue(client: FlaskClient, rc: ReviewCycle) -> None:
    threads.post(discussion.AUDIENCE, rc.nominations[2].id, rc.reviewers[1], "Look at page 3.")
    db.session.commit()
    login(client, rc.reviewers[0])
    assert "1 new message in the discussion" in client.get("/review").get_data(as_text=True)
    client.get(f"/review/{rc.nominations[2].id}")  # reads it
    assert "new message" not in client.get("/review").get_data(as_text=True)
