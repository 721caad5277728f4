"""Pages load what they show in a fixed number of queries, however long the lists."""

from __future__ import annotations

from portal.extensions import db
from tests.conftest import count_queries
from tests.events import factories


def _queries(client, url: str) -> int:  # noqa: ANN001
    db.session.commit()
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_alumni_pages_do_not_grow_with_the_list(client, login_as, factory) -> None:  # noqa: ANN001
    user, record = factories.alumnus(factory)
    login_as(user)
    first = factories.event()
    factories.registration(first, record)
    small = {url: _queries(client, url) for url in ("/events", "/dashboard")}
    for _ in range(6):
        factories.registration(factories.event(), record)
        factories.event()
    assert {url: _queries(client, url) for url in small} == small


def test_staff_pages_do_not_grow_with_the_registrants(client, login_as, factory) -> None:  # noqa: ANN001
    event = factories.event(capacity=100)
    login_as(factory.staff())
    factories.registration(event, factories.alumnus(factory)[1])
    urls = (f"/admin/events/{event.id}", f"/admin/events/{event.id}/check-in",
            "/admin/events", f"/admin/events/{event.id}/registrations.csv")
    small = {url: _queries(client, url) for url in urls}
    for i in range(6):
        factories.registration(event, factories.alumnus(factory)[1],
                               checked_in_at=event.starts_at if i % 2 else None)
        factories.registration(event)
    assert {url: _queries(client, url) for url in urls} == small
