"""Submission limits hold when two nominators race for the last slot (real threads, each
request on its own database connection; on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.nominations.models import COUNTED_STATES, Nomination, NominationState
from tests.conftest import login
from tests.nominations.factories import make_nomination


def _race(app_ctx, pairs):  # noqa: ANN001, ANN202
    """Each (user, nomination id) submits from its own thread, released together."""
    clients = []
    for user, nomination_id in pairs:
        client = app_ctx.test_client()
        login(client, user)
        clients.append((client, nomination_id))
    db.session.commit()
    barrier = threading.Barrier(len(clients))
    pages: list[str] = []

    def submit(client, nomination_id):  # noqa: ANN001, ANN202
        barrier.wait()
        response = client.post(f"/nominations/{nomination_id}/submit", follow_redirects=True)
        pages.append(response.get_data(as_text=True))

    threads = [threading.Thread(target=submit, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    return pages


@pytest.mark.parametrize("scope", ["institution", "country"])
def test_last_slot_goes_to_exactly_one(app_ctx, factory, cycle, scope):
    if scope == "institution":
        cycle.max_submissions_per_institution = 2
        first = second = factory.institution(country="TH", timezone="Asia/Bangkok")
    else:
        cycle.max_submissions_per_country = 2
        first = factory.institution(country="TH", timezone="Asia/Bangkok")
        second = factory.institution(country="TH", timezone="Asia/Bangkok")
    db.session.commit()
    one, two = factory.nominator(first), factory.nominator(second)
    make_nomination(cycle, first, state=NominationState.SUBMITTED)  # one slot is taken
    a = make_nomination(cycle, first, user=one)
    b = make_nomination(cycle, second, user=two)
    pages = _race(app_ctx, [(one, a.id), (two, b.id)])
    db.session.expire_all()
    states = sorted(db.session.scalars(select(Nomination.state).where(
        Nomination.id.in_([a.id, b.id]))))
    assert states == ["draft", "submitted"]
    assert db.session.scalar(select(func.count(Nomination.id)).where(
        Nomination.state.in_(COUNTED_STATES))) == 2
    assert sum("Submitted. A receipt" in p for p in pages) == 1
    refusal = "the most this cycle allows" if scope == "institution" else "from your country"
    assert sum(refusal in p for p in pages) == 1
