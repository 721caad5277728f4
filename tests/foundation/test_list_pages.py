"""The lists of the foundation and of alumni (people, outbox, audit log, alumni records,
directory) page through portal.listing: a page costs the same number of queries whether
it shows three rows or fifty, and the pager links keep the filters."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from portal.accounts.models import Role
from portal.audit.services import record
from portal.extensions import db
from portal.notify.services import queue_mail
from tests.alumni import factories as alumni
from tests.conftest import count_queries
from tests.factories import Factory


def _next_page(html: str) -> dict[str, list[str]]:
    """The arguments of the pager's "Next" link."""
    nav = re.search(r'<nav class="pager".*?</nav>', html, re.S)
    assert nav, "no pager"
    hrefs = re.findall(r'href="([^"]+)"', nav.group(0))
    return parse_qs(urlsplit(hrefs[-1].replace("&amp;", "&")).query)


def _queries(client: FlaskClient, url: str, **args: str) -> int:
    client.get(url, query_string=args)  # warm: the signed-in user, the session
    with count_queries() as statements:
        response = client.get(url, query_string=args)
    assert response.status_code == 200, url
    return len(statements)


def test_the_people_page_costs_the_same_for_few_and_many(client: FlaskClient, factory: Factory,
                                                         login_as) -> None:  # noqa: ANN001
    login_as(factory.staff())
    for _ in range(2):
        factory.nominator(factory.institution())
    db.session.commit()
    few = _queries(client, "/admin/people")
    for _ in range(50):  # each with an institution and roles
        factory.nominator(factory.institution())
    db.session.commit()
    assert _queries(client, "/admin/people") == few
    html = client.get("/admin/people", query_string={"role": "nominator"}).get_data(
        as_text=True)
    assert "Page 1 of 2" in html
    assert _next_page(html) == {"role": ["nominator"], "page": ["2"]}


def test_outbox_and_audit_log_cost_the_same_for_few_and_many(client: FlaskClient,
                                                             factory: Factory,
                                                             login_as) -> None:  # noqa: ANN001
    staff = factory.staff()
    login_as(staff)

    def add(n: int) -> None:
        for i in range(n):
            queue_mail(f"person{i}@example.org", "password_reset", subject="Reset",
                       name="Person", link="http://portal.test/x", hours=2)
            record("test.event", actor=staff, object_type="user", object_id=i)
        db.session.commit()

    add(3)
    few = (_queries(client, "/admin/outbox"), _queries(client, "/admin/audit"))
    add(60)
    assert (_queries(client, "/admin/outbox"), _queries(client, "/admin/audit")) == few
    outbox = client.get("/admin/outbox", query_string={"status": "queued"}).get_data(
        as_text=True)
    assert _next_page(outbox) == {"status": ["queued"], "page": ["2"]}
    audit = client.get("/admin/audit", query_string={"action": "test.", "from": "2020-01-01"})
    assert _next_page(audit.get_data(as_text=True)) == {
        "action": ["test."], "from": ["2020-01-01"], "page": ["2"]}


def test_alumni_list_and_directory_cost_the_same_for_few_and_many(
        client: FlaskClient, factory: Factory, login_as) -> None:  # noqa: ANN001
    login_as(factory.user(Role.STAFF, Role.ALUMNUS))

    def add(n: int) -> None:
        for _ in range(n):
            account = factory.alumnus()
            alumni.alumnus(user_id=account.id, directory_visible=True)

    add(3)
    few = (_queries(client, "/admin/alumni"), _queries(client, "/alumni/directory"))
    add(60)
    assert (_queries(client, "/admin/alumni"), _queries(client, "/alumni/directory")) == few
    staff_list = client.get("/admin/alumni", query_string={"country": "th"}).get_data(
        as_text=True)
    assert _next_page(staff_list) == {"country": ["TH"], "page": ["2"]}
    directory = client.get("/alumni/directory", query_string={"page": "3"}).get_data(
        as_text=True)
    assert "Page 3 of 3" in directory
