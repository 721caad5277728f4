"""Staff's review pages and the reviewer's declaration page open on a real review world."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from tests.factories import Factory
from tests.review.factories import make_review_cycle


def test_every_staff_page_opens(client: FlaskClient, factory: Factory,
                                login_as: Callable[..., object]) -> None:
    rc = make_review_cycle(factory)
    login_as(rc.staff)
    c = rc.cycle.id
    member = rc.member(rc.reviewers[0])
    for url in ("/staff/review", f"/staff/review/{c}", f"/staff/review/{c}/settings",
                f"/staff/review/{c}/rubric",
                f"/staff/review/{c}/rubric/criteria/{rc.criteria[0].id}",
                f"/staff/review/{c}/pool", f"/staff/review/{c}/pool?q=rev",
                f"/staff/review/{c}/pool/{member.id}", f"/staff/review/{c}/conflicts",
                f"/staff/review/{c}/conflicts?status=active",
                f"/staff/review/{c}/progress", f"/staff/review/{c}/progress?show=short",
                "/dashboard"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.data[:2000])


def test_the_declaration_page_opens_for_a_pool_member(client: FlaskClient, factory: Factory,
                                                      login_as: Callable[..., object]) -> None:
    rc = make_review_cycle(factory)
    login_as(rc.reviewers[0])
    response = client.get(f"/review/cycles/{rc.cycle.id}/conflicts")
    assert response.status_code == 200, response.data[:2000]
    assert rc.institutions[0].name in response.text
