"""Progress for staff (per reviewer and per nomination, in a constant number of queries)
and reminders: one reviewer, every late one, and the tick before review closes, once each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.db import utcnow
from portal.errors import Conflict as ConflictError
from portal.extensions import db
from portal.notify.models import OutboxMessage
from portal.review import progress
from portal.review.models import ReviewReminder
from portal.review.setup import setup_of
from tests.conftest import count_queries
from tests.factories import Factory
from tests.nominations.factories import make_nomination
from tests.review.factories import ReviewCycle, add_to_pool, assign, make_review_cycle


def _reminders(to: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.template == "review_reminder")
    if to:
        query = query.where(OutboxMessage.to_addr == to)
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def _rows(rc: ReviewCycle) -> dict[str, tuple[int, int, int, int]]:
    return {r.user.name: (r.assigned, r.started, r.submitted, r.overdue)
            for r in progress.reviewers_progress(rc.cycle)}


def test_progress_per_reviewer_and_per_nomination(factory: Factory) -> None:
    rc = make_review_cycle(factory)
    # Returned and withdrawn dossiers are out of the queue, so out of the counts.
    assert _rows(rc) == {"Reviewer A": (3, 1, 1, 0), "Reviewer B": (2, 0, 2, 0),
                         "Reviewer C": (2, 1, 0, 0), "Conflicted Reviewer": (1, 0, 0, 0),
                         "Outsider Reviewer": (0, 0, 0, 0)}
    setup = setup_of(rc.cycle.id)
    assert setup is not None
    setup.closes_at = utcnow() - timedelta(hours=1)
    assert _rows(rc)["Reviewer C"] == (2, 1, 0, 2)  # overdue once review closed
    page = progress.nominations_page(rc.cycle, progress.NominationFilters.from_args({}))
    by_ref = {p.nomination.reference: (p.assigned, p.started, p.submitted, p.wanted)
              for p in page}
    n = rc.nominations
    assert by_ref == {n[0].reference: (3, 1, 0, 3), n[1].reference: (2, 1, 1, 3),
                      n[2].reference: (2, 0, 2, 3), n[3].reference: (1, 0, 0, 3)}
    assert page.items[0].submitted == 0  # the fewest submitted first
    short = progress.nominations_page(rc.cycle, progress.NominationFilters.from_args(
        {"show": "done"}))
    assert short.total == 0


def test_progress_queries_do_not_grow_with_the_cycle(factory: Factory) -> None:
    rc = make_review_cycle(factory)
    filters = progress.NominationFilters.from_args({})

    def statements() -> int:
        db.session.expire_all()
        with count_queries() as seen:
            rows = progress.reviewers_progress(rc.cycle)
            progress.totals(rows)
            list(progress.nominations_page(rc.cycle, filters))
        return len(seen)

    before = statements()
    for i in range(6):
        extra = factory.reviewer(name=f"Extra {i}")
        add_to_pool(rc.cycle, extra)
        nomination = make_nomination(rc.cycle, rc.institutions[i % 2], state="under_review",
                                     documents=(), confirmed=False)
        assign(nomination, extra)
        if i == 0:
            assign(rc.nominations[0], extra)
    assert statements() == before


def test_staff_remind_one_reviewer_in_their_language(
        client: FlaskClient, factory: Factory, login_as: Callable[..., object]) -> None:
    rc = make_review_cycle(factory)
    late = rc.reviewers[2]
    late.language = "ja"
    db.session.commit()
    login_as(rc.staff)
    url = f"/staff/review/{rc.cycle.id}/progress/remind/{late.id}"
    assert client.post(url).status_code == 303
    (mail,) = _reminders(late.email)
    assert mail.language == "ja"
    assert rc.nominations[0].family_name not in mail.body_text  # counts, never candidates
    (row,) = db.session.scalars(select(ReviewReminder).where(
        ReviewReminder.reviewer_id == late.id))
    assert row.kind.startswith("manual:") and len(row.kind) <= 20
    again = client.post(url)  # a double click mails once
    assert "was reminded a moment ago" in client.get(again.headers["Location"]).text
    assert len(_reminders(late.email)) == 1
    done = client.post(f"/staff/review/{rc.cycle.id}/progress/remind/{rc.reviewers[1].id}")
    assert "has no review left to do" in client.get(done.headers["Location"]).text


def test_staff_remind_every_late_reviewer(factory: Factory) -> None:
    rc = make_review_cycle(factory)
    now = utcnow()
    # Reviewer A, C and the conflicted one have work left; B is done, the outsider has none.
    assert progress.remind_late(rc.cycle, rc.staff, now) == 3
    assert progress.remind_late(rc.cycle, rc.staff, now) == 0
    with pytest.raises(ConflictError):
        progress.remind(rc.cycle, rc.reviewers[0], rc.staff, now)
    assert progress.remind_late(rc.cycle, rc.staff, now + timedelta(minutes=1)) == 3


def test_the_tick_reminds_seven_days_and_one_day_before_the_close(factory: Factory) -> None:
    rc = make_review_cycle(factory)
    setup = setup_of(rc.cycle.id)
    assert setup is not None and setup.closes_at is not None
    close = setup.closes_at
    db.session.commit()
    assert progress.send_due(close - timedelta(days=8)) == 0
    assert progress.send_due(close - timedelta(days=6, hours=20)) == 3
    assert progress.send_due(close - timedelta(days=6)) == 0  # once
    assert progress.send_due(close - timedelta(hours=20)) == 3
    assert progress.send_due(close - timedelta(hours=1)) == 0
    assert progress.send_due(close + timedelta(hours=1)) == 0
    kinds = sorted(r.kind for r in db.session.scalars(select(ReviewReminder)))
    assert kinds == ["1d"] * 3 + ["7d"] * 3
    assert "JST" in _reminders()[0].body_text  # the close in Japan time


def test_a_late_set_up_gets_only_the_nearest_reminder(factory: Factory) -> None:
    make_review_cycle(factory, setup={"closes_in": timedelta(hours=12)})
    db.session.commit()
    assert progress.send_due() == 3
    assert {r.kind for r in db.session.scalars(select(ReviewReminder))} == {"1d"}
    assert progress.send_due() == 0
