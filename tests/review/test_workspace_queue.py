"""The reviewer's queue: only what the policy lets them open, progress, filters, next and
previous, the confidentiality terms first, and nothing of other reviewers' scores before
their own review is in (not in columns, counts or the order)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.review.models import ReviewStatus
from tests.conftest import login
from tests.factories import Factory
from tests.review.factories import (
    ReviewCycle,
    add_to_pool,
    assign,
    full_scores,
    make_review,
    make_review_cycle,
)


@pytest.fixture
def rc(factory: Factory) -> ReviewCycle:
    return make_review_cycle(factory)


def _links(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/review/(\d+)[?"]', page)]


def test_the_queue_lists_what_the_reviewer_may_open(client: FlaskClient, rc: ReviewCycle
                                                    ) -> None:
    login(client, rc.reviewers[0])
    page = client.get("/review").get_data(as_text=True)
    ids = [n.id for n in rc.nominations]
    # Not started, draft, submitted; the returned and the withdrawn ones are not there.
    assert sorted(set(_links(page))) == sorted(ids[:3])
    assert "1 of 3 submitted" in page
    assert "Not started" in page and "Draft" in page and "Submitted" in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "1 of 3 submitted" in dashboard and "No nomination is assigned" not in dashboard

    only_new = client.get("/review?status=new").get_data(as_text=True)
    assert set(_links(only_new)) == {ids[0]}
    radiology = next(s.id for s in rc.cycle.specialties if s.code == "radiology")
    assert set(_links(client.get(f"/review?specialty={radiology}").get_data(as_text=True))) \
        == {ids[1]}


def test_next_and_previous_follow_the_queue_and_its_filters(client: FlaskClient,
                                                            rc: ReviewCycle) -> None:
    login(client, rc.reviewers[0])
    order = sorted(rc.nominations[:3], key=lambda n: n.reference)
    middle = client.get(f"/review/{order[1].id}").get_data(as_text=True)
    assert f'href="/review/{order[0].id}" rel="prev"' in middle
    assert f'href="/review/{order[2].id}" rel="next"' in middle
    assert "2 of 3" in middle
    # Filtered to submitted reviews, the first one is alone in the queue.
    alone = client.get(f"/review/{rc.nominations[2].id}?status=submitted").get_data(as_text=True)
    assert 'rel="prev"' not in alone and 'rel="next"' not in alone and "1 of 1" in alone


def test_conflicted_and_unassigned_reviewers_see_nothing(client: FlaskClient,
                                                         rc: ReviewCycle) -> None:
    for reviewer in (rc.conflicted, rc.outsider):
        client.post("/logout")
        login(client, reviewer)
        page = client.get("/review").get_data(as_text=True)
        assert _links(page) == [] and "No dossier is in your queue" in page
        assert client.get(f"/review/{rc.nominations[0].id}").status_code == 404
        assert client.post(f"/review/{rc.nominations[0].id}/autosave",
                           data={"revision": "1"}).status_code == 404


def test_the_terms_come_before_the_first_dossier(client: FlaskClient, factory: Factory,
                                                 rc: ReviewCycle) -> None:
    newcomer = factory.reviewer()
    add_to_pool(rc.cycle, newcomer, terms_accepted=False)
    assign(rc.nominations[0], newcomer)
    login(client, newcomer)
    page = client.get("/review").get_data(as_text=True)
    assert "Keep what you read to yourself." in page
    assert "1 dossier is assigned to you." in page
    assert _links(page) == []
    assert client.get(f"/review/{rc.nominations[0].id}").status_code == 404
    response = client.post(f"/review/terms/{rc.cycle.id}")
    assert response.status_code == 303
    assert client.get(f"/review/{rc.nominations[0].id}").status_code == 200
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "review.terms_accepted"))
    assert event is not None and event.actor_id == newcomer.id
    assert len(event.details["terms_sha256"]) == 64
    # Accepting twice records once.
    client.post(f"/review/terms/{rc.cycle.id}")
    assert len(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "review.terms_accepted")).all()) == 1


def _normalised(page: str) -> str:
    page = re.sub(r'name="csrf_token" value="[^"]*"', "", page)
    page = re.sub(r'"X-CSRFToken": "[^"]*"', "", page)
    return re.sub(r'<span class="countdown"[^>]*>[^<]*</span>', "", page)


def test_others_scores_show_nowhere_before_ones_own_review(client: FlaskClient,
                                                           factory: Factory,
                                                           rc: ReviewCycle) -> None:
    """Reviewer 2 has a draft of nomination 0 and has not started nomination 3. Other
    reviewers' submitted scores, high on one and low on the other and then the other way
    round, change nothing in reviewer 2's queue, whichever order it is sorted in, nor in
    the workspace, until reviewer 2 submits."""
    me = rc.reviewers[2]
    login(client, me)
    urls = ["/review", "/review?sort=status", "/review?sort=-status", "/review?sort=specialty",
            "/review?sort=-reference", f"/review/{rc.nominations[0].id}",
            f"/review/{rc.nominations[3].id}", "/dashboard"]
    before = {u: _normalised(client.get(u).get_data(as_text=True)) for u in urls}

    others = [factory.reviewer(), factory.reviewer()]
    for other in others:
        add_to_pool(rc.cycle, other)
    high_low = {}
    for other, (first, second) in zip(others, [("max", "min"), ("min", "max")], strict=True):
        for n, value in ((0, first), (3, second)):
            a = assign(rc.nominations[n], other)
            high_low[(n, other.id)] = make_review(
                a, status=ReviewStatus.SUBMITTED, criteria=rc.criteria,
                scores=full_scores(rc.criteria, value), committee_comment=f"Secret {value}")
    after = {u: _normalised(client.get(u).get_data(as_text=True)) for u in urls}
    for url in urls:
        assert after[url] == before[url], url
        assert "Secret" not in after[url]

    # Once reviewer 2 submits nomination 0, the others' reviews of it show (anonymous).
    form = {"revision": "5", "committee_comment": "Mine", "action": "submit"}
    form.update({f"score-{c.id}": str(c.scale_min) for c in rc.criteria})
    assert client.post(f"/review/{rc.nominations[0].id}", data=form).status_code == 303
    page = client.get(f"/review/{rc.nominations[0].id}").get_data(as_text=True)
    assert "Secret max" in page and "Secret min" in page
    # Anonymous by default, lettered in the order of assignment to the dossier (A: reviewer
    # 0, B: this reviewer, C: the conflicted one, then the two others).
    assert others[0].name not in page and others[1].name not in page
    assert "You are Reviewer B" in page
    assert "Reviewer D" in page and "Reviewer E" in page
    # Still nothing of nomination 3, not yet reviewed.
    assert "Secret" not in client.get(f"/review/{rc.nominations[3].id}").get_data(as_text=True)


def test_changes_since_ones_review_show_until_the_review_is_saved_again(
        client: FlaskClient, rc: ReviewCycle) -> None:
    assignment = rc.assignment(2, 0)  # submitted
    assignment.changed_since_review = ["field:motivation", "document:cv"]
    db.session.commit()
    login(client, rc.reviewers[0])
    shown = "Changed since your review: Motivation, Curriculum vitae"
    assert shown in client.get("/review").get_data(as_text=True)
    assert shown in client.get(f"/review/{rc.nominations[2].id}").get_data(as_text=True)
    form = {"revision": "2", "committee_comment": "Read the new CV.", "action": "save"}
    form.update({f"score-{c.id}": str(c.scale_max) for c in rc.criteria})
    assert client.post(f"/review/{rc.nominations[2].id}", data=form).status_code == 303
    assert "Changed since your review" not in client.get("/review").get_data(as_text=True)


def test_others_are_named_only_when_the_cycle_says_so(client: FlaskClient,
                                                      rc: ReviewCycle) -> None:
    rc.reviewers[1].name = "Dr Beta Named"
    db.session.commit()
    login(client, rc.reviewers[0])
    url = f"/review/{rc.nominations[2].id}"  # reviewer 1 (B) submitted too
    page = client.get(url).get_data(as_text=True)
    assert "Reviewer B" in page and "Dr Beta Named" not in page
    rc.setup.others_named = True
    db.session.commit()
    assert "Reviewer B (Dr Beta Named)" in client.get(url).get_data(as_text=True)
    rc.setup.others_visible = "never"
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Dr Beta Named" not in page
    assert "reviewers do not see each other's reviews" in page
