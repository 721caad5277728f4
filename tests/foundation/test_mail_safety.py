"""Nobody can make the portal mail an address with their own text and links (issue 12,
point 3): one-line fields stay on one line, typed lines never become links in mail, mails
that anonymous visitors trigger carry only the portal's own text and link, and each such
flow has a per-recipient limit (the visitor's answer is the same either way)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.events.models import Registration
from portal.extensions import db
from portal.forms import single_line
from portal.institutions.models import Institution
from tests.conftest import login
from tests.events import factories as event_factories
from tests.foundation.helpers import client_at, outbox

PHISH = "https://phish.example.net/login"
TYPED = f"Dr. Eve\r\n\r\nYour account is locked. Open this page:\r\n{PHISH}"
REQUEST = {"name": f"Clinic\n{PHISH}", "country": "TH", "city": "Bangkok",
           "timezone": "Asia/Bangkok", "kind": "hospital", "head_name": "Dr. Head",
           "head_email": "head@clinic.example.org", "contact_name": TYPED,
           "contact_position": "Officer", "contact_email": "victim@example.org",
           "message": "Anything"}


def _links(html: str | None) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', html or "")


@pytest.mark.parametrize(("typed", "kept"), [
    ("Dr. Eve\r\nhttps://x.example", "Dr. Eve https://x.example"),
    ("A\tB\x00C\u2028D\u202eE\u200bF", "A B C D E F"),
    ("  spaced   out  ", "spaced out"),
])
def test_one_line_text_is_collapsed(typed: str, kept: str) -> None:
    assert single_line(typed) == kept


def test_typed_names_reach_pages_and_mail_on_one_line(client) -> None:  # noqa: ANN001
    event = event_factories.event(guests_allowed=True)
    client.post(f"/events/{event.id}/guest", data={
        "name": TYPED, "email": "victim@example.org", "institution": f"X\n{PHISH}"})
    row = db.session.scalars(select(Registration)).one()
    assert "\n" not in row.guest_name and "\r" not in row.guest_name
    assert "\n" not in (row.guest_institution or "")
    assert client.post("/request-access", data=REQUEST).status_code == 303
    institution = db.session.scalars(select(Institution)).one()
    assert "\n" not in institution.name and "\n" not in (institution.contact_name or "")


def test_mails_of_anonymous_visitors_carry_only_the_portals_text(app_ctx, factory) -> None:  # noqa: ANN001
    event = event_factories.event(guests_allowed=True, title="Cardiac imaging day")
    visitor = app_ctx.test_client()
    visitor.post(f"/events/{event.id}/guest", data={
        "name": TYPED, "email": "victim@example.org", "institution": f"X {PHISH}"})
    visitor.post("/request-access", data=REQUEST)
    factory.reviewer(name="Dr. Account Holder", email="holder@example.org")
    visitor.post("/password/forgot", data={"email": "holder@example.org"})

    mails = outbox("victim@example.org") + outbox("holder@example.org")
    assert [m.template for m in mails] == ["event_guest_confirm", "access_request_received",
                                           "password_reset"]
    for mail in mails:
        shown = mail.subject + mail.body_text + (mail.body_html or "")
        for typed in ("Eve", "phish", "Clinic", "Account Holder", "locked"):
            assert typed not in shown, (mail.template, typed)
        links = _links(mail.body_html)
        assert all(link.startswith("http://portal.test/") for link in links)
        assert len(links) == (0 if mail.template == "access_request_received" else 1)
    assert "Cardiac imaging day" in mails[0].body_text  # the portal's own facts stay


def test_no_mail_turns_a_typed_line_into_a_link(client, factory, login_as) -> None:  # noqa: ANN001
    event = event_factories.event()
    event_factories.registration(event, guest_email="guest@example.org")
    login_as(factory.staff())
    client.post(f"/admin/events/{event.id}/message", data={
        "subject": "Parking", "body": f"Use gate 3.\n{PHISH}\nhttp://portal.test.phish.net"})
    [mail] = outbox("guest@example.org")
    assert PHISH in mail.body_text and f"<a href=\"{PHISH}\"" not in (mail.body_html or "")
    [own] = _links(mail.body_html)  # the personal link the portal wrote is a link
    assert own.startswith("http://portal.test/events/guest/")
    assert PHISH in (mail.body_html or "")  # shown as text


def test_guest_confirmations_are_limited_per_recipient(app_ctx, settings) -> None:  # noqa: ANN001
    settings(EVENT_GUEST_MAIL_LIMIT="2 per hour")
    events = [event_factories.event(guests_allowed=True) for _ in range(3)]
    answers = []
    for n, event in enumerate(events):  # from three addresses: the per-IP limit is not it
        response = client_at(app_ctx, f"198.51.100.{n + 1}").post(
            f"/events/{event.id}/guest",
            data={"name": "Guest", "email": "target@example.org", "institution": "X"})
        html = response.get_data(as_text=True)
        answers.append((response.status_code, "Check your e-mail" in html))
    assert answers == [(200, True)] * 3
    assert len(outbox("target@example.org")) == 2


def test_access_request_mails_are_limited_per_recipient(app_ctx, settings) -> None:  # noqa: ANN001
    settings(ACCESS_REQUEST_MAIL_LIMIT="1 per day")
    answers = [client_at(app_ctx, f"198.51.100.{n + 10}").post(
        "/request-access", data={**REQUEST, "name": f"Clinic {n}"}).headers["Location"]
        for n in range(3)]
    assert answers == ["/request-access/sent"] * 3
    assert len(outbox("victim@example.org")) == 1


def test_reset_mails_are_limited_per_recipient(app_ctx, factory, settings) -> None:  # noqa: ANN001
    settings(PASSWORD_RESET_MAIL_LIMIT="2 per hour")
    user = factory.reviewer(email="reset.target@example.org")
    answers = []
    for n in range(3):
        response = client_at(app_ctx, f"198.51.100.{n + 20}").post(
            "/password/forgot", data={"email": user.email}, follow_redirects=True)
        answers.append((response.status_code, "If an account uses this address" in
                        response.get_data(as_text=True)))
    assert answers == [(200, True)] * 3
    assert len(outbox(user.email)) == 2


def test_staff_still_see_what_the_visitor_typed(client, factory) -> None:  # noqa: ANN001
    client.post("/request-access", data=REQUEST)
    login(client, factory.staff())
    institution = db.session.scalars(select(Institution)).one()
    page = client.get(f"/admin/institutions/{institution.id}").get_data(as_text=True)
    assert "Your account is locked." in page  # shown as text, to staff only
