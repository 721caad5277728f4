"""The staff assignment pages over HTTP: overview, preview and apply (htmx and plain
forms), a stale preview, one nomination's and one reviewer's pages, and constant SQL
statement counts."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.notify.models import OutboxMessage
from portal.review.models import Assignment, AssignmentStatus
from tests.conftest import count_queries
from tests.factories import Factory
from tests.nominations.factories import make_nomination
from tests.review.factories import assign, make_conflict
from tests.review.test_assign_service import World, live, make_world

HTMX = {"HX-Request": "true"}


def token_in(html: str) -> str:
    found = re.search(r'name="token" type="hidden" value="([^"]+)"', html) or re.search(
        r'type="hidden" name="token" value="([^"]+)"', html) or re.search(
        r'id="token" name="token" type="hidden" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def signed_in_staff(client: FlaskClient, login_as: Callable[..., object],
                    factory: Factory, **kw: int) -> World:
    w = make_world(factory, **kw)
    login_as(w.staff)
    return w


def test_staff_preview_then_apply_and_see_the_loads(
        client: FlaskClient, login_as: Callable[..., object], factory: Factory) -> None:
    w = signed_in_staff(client, login_as, factory)
    page = client.get(f"/staff/review/{w.cycle.id}/assignment")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Reviewer 0" in html and "Preview the automatic assignment" in html
    preview = client.post(f"/staff/review/{w.cycle.id}/assignment/preview", headers=HTMX)
    assert preview.status_code == 200
    fragment = preview.get_data(as_text=True)
    assert "<html" not in fragment and "Apply this assignment" in fragment
    assert "Every nomination (4) gets its 2 reviews." in fragment
    assert "75%" in fragment and "The review graph is connected" in fragment
    assert live(w.cycle) == []
    applied = client.post(f"/staff/review/{w.cycle.id}/assignment/apply",
                          data={"token": token_in(fragment)})
    assert applied.status_code == 303
    assert applied.headers["Location"].endswith(f"/staff/review/{w.cycle.id}/assignment")
    after = client.get(applied.headers["Location"]).get_data(as_text=True)
    assert "Assignment applied: 8 reviews assigned" in after
    assert re.search(r'data-reviewer="\d+">3<', after)
    assert len(live(w.cycle)) == 8
    # Without JavaScript the preview is a page of its own, with the same form.
    plain = client.post(f"/staff/review/{w.cycle.id}/assignment/preview")
    assert "<html" in plain.get_data(as_text=True)
    assert "Nothing would change." in plain.get_data(as_text=True)


def test_a_stale_preview_is_refused_with_a_clear_message(
        client: FlaskClient, login_as: Callable[..., object], factory: Factory) -> None:
    w = signed_in_staff(client, login_as, factory)
    fragment = client.post(f"/staff/review/{w.cycle.id}/assignment/preview",
                           headers=HTMX).get_data(as_text=True)
    make_conflict(w.cycle, w.reviewers[0], institution=w.institutions[0])
    token = token_in(fragment)
    answer = client.post(f"/staff/review/{w.cycle.id}/assignment/apply",
                         data={"token": token}, headers=HTMX)
    assert answer.status_code == 409
    assert "changed since this preview" in answer.get_data(as_text=True)
    answer = client.post(f"/staff/review/{w.cycle.id}/assignment/apply", data={"token": token})
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Run the preview again." in page
    assert live(w.cycle) == [] and not db.session.scalars(select(OutboxMessage)).all()


def test_the_nomination_page_adds_removes_and_refuses_a_conflicted_reviewer(
        client: FlaskClient, login_as: Callable[..., object], factory: Factory) -> None:
    w = signed_in_staff(client, login_as, factory, reviewers=4)
    n = w.nominations[0]
    declined = assign(n, w.reviewers[1], status=AssignmentStatus.DECLINED,
                      ended_by="reviewer", declined_reason="On leave in March")
    make_conflict(w.cycle, w.reviewers[3], institution=w.institutions[0])
    html = client.get(f"/staff/review/nominations/{n.id}/assignment").get_data(as_text=True)
    assert "On leave in March" in html and "Suggested replacements" in html
    assert "Reviewer 3" not in html  # conflicted: not offered
    refused = client.post(f"/staff/review/nominations/{n.id}/assignment",
                          data={"reviewer_id": w.reviewers[3].id, "over_limit": "y"})
    assert refused.status_code == 303
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "has a conflict of interest with this nomination" in page
    added = client.post(f"/staff/review/nominations/{n.id}/assignment",
                        data={"reviewer_id": w.reviewers[0].id, "tell": "y"})
    assert added.status_code == 303
    row = db.session.scalars(select(Assignment).where(
        Assignment.nomination_id == n.id, Assignment.reviewer_id == w.reviewers[0].id)).one()
    assert row.status == AssignmentStatus.ACTIVE and row.notified_at is not None
    removed = client.post(f"/staff/review/assignments/{row.id}/remove",
                          data={"back": "reviewer"})
    assert removed.status_code == 303
    assert removed.headers["Location"].endswith(
        f"/staff/review/{w.cycle.id}/reviewers/{w.reviewers[0].id}/assignment")
    db.session.refresh(row)
    assert row.status == AssignmentStatus.REMOVED
    assert declined.id  # the declined row stays listed with its reason


def test_the_reviewer_page_gives_a_nomination(
        client: FlaskClient, login_as: Callable[..., object], factory: Factory) -> None:
    w = signed_in_staff(client, login_as, factory)
    reviewer = w.reviewers[1]  # radiology: nominations 1 and 3 first
    make_conflict(w.cycle, reviewer, nomination=w.nominations[3])
    html = client.get(f"/staff/review/{w.cycle.id}/reviewers/{reviewer.id}/assignment"
                      ).get_data(as_text=True)
    options = re.findall(r'<option value="(\d+)"', html)
    assert options[0] == str(w.nominations[1].id)
    assert str(w.nominations[3].id) not in options
    answer = client.post(f"/staff/review/{w.cycle.id}/reviewers/{reviewer.id}/assignment",
                         data={"nomination_id": w.nominations[1].id})
    assert answer.status_code == 303
    assert [a.nomination_id for a in live(w.cycle)] == [w.nominations[1].id]
    # A reviewer outside the pool has no page here.
    outsider = factory.reviewer()
    assert client.get(f"/staff/review/{w.cycle.id}/reviewers/{outsider.id}/assignment"
                      ).status_code == 404


def test_the_overview_runs_as_many_statements_for_many_nominations_as_for_few(
        client: FlaskClient, login_as: Callable[..., object], factory: Factory) -> None:
    w = signed_in_staff(client, login_as, factory, nominations=3)
    url = f"/staff/review/{w.cycle.id}/assignment"
    client.get(url)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    for i in range(12):
        n = make_nomination(w.cycle, w.institutions[i % 2], state="submitted",
                            documents=(), confirmed=False)
        assign(n, w.reviewers[i % 3])
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_the_overview_counts_only_reviewers_no_conflict_holds_back(
        client: FlaskClient, login_as: Callable[..., object], factory: Factory) -> None:
    w = signed_in_staff(client, login_as, factory, nominations=2, wanted=1)
    first, second = w.nominations  # of institutions 0 and 1
    assign(first, w.reviewers[0])
    assign(second, w.reviewers[0])
    make_conflict(w.cycle, w.reviewers[0], institution=w.institutions[0], status="to_confirm")
    html = client.get(f"/staff/review/{w.cycle.id}/assignment?sort=reference"
                      ).get_data(as_text=True)
    counts = dict(re.findall(r'assignment">(N-\w+)</a>.*?<td>(\d+) of 1', html, re.S))
    assert counts == {first.reference: "0", second.reference: "1"}
    assert "1 short of reviewers" in html
    short = client.get(f"/staff/review/{w.cycle.id}/assignment?show=short",
                       headers=HTMX).get_data(as_text=True)
    assert first.reference in short and second.reference not in short
