"""Absolute links come from PORTAL_BASE_URL, never from the Host header a visitor sends
(issue 12, point 18): calendar files, staff pages that show a public link, mails sent
while answering a request."""

from __future__ import annotations

from icalendar import Calendar

from portal.events import registration as seats
from portal.events.codes import guest_key
from portal.extensions import db
from tests.conftest import TEST_PASSWORD
from tests.events import factories
from tests.events.helpers import mails

FORGED = {"Host": "phish.example.net"}
PHISH = "http://phish.example.net"


def _sign_in_through(client, user) -> None:  # noqa: ANN001
    """Signed in on the forged host name (the cookie belongs to it)."""
    response = client.post("/login", base_url=PHISH,
                           data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 303


def _url_of(ics: bytes) -> str:
    [entry] = Calendar.from_ical(ics).walk("VEVENT")
    return str(entry["URL"])


def test_calendar_files_link_to_the_configured_address(client, factory, req) -> None:  # noqa: ANN001
    event = factories.event(guests_allowed=True)
    user, record = factories.alumnus(factory)
    seats.register_alumnus(event, record)
    guest = factories.registration(event)
    db.session.commit()
    _sign_in_through(client, user)
    mine = client.get(f"/events/{event.id}/calendar.ics", base_url=PHISH)
    assert mine.status_code == 200
    assert _url_of(mine.data) == f"http://portal.test/events/{event.id}"
    theirs = client.get(f"/events/guest/{guest.id}/{guest_key(guest)}/calendar.ics",
                        headers=FORGED)
    assert _url_of(theirs.data) == (f"http://portal.test/events/guest/{guest.id}/"
                                    f"{guest_key(guest)}")
    assert b"phish" not in mine.data + theirs.data


def test_staff_pages_show_public_links_on_the_configured_address(client, factory) -> None:  # noqa: ANN001
    event = factories.event(guests_allowed=True)
    _sign_in_through(client, factory.staff())
    page = client.get(f"/admin/events/{event.id}", base_url=PHISH).get_data(as_text=True)
    assert f"http://portal.test/events/{event.id}/guest" in page
    assert "phish" not in page


def test_mails_sent_while_answering_a_forged_request_link_to_the_portal(client) -> None:  # noqa: ANN001
    event = factories.event(guests_allowed=True)
    client.post(f"/events/{event.id}/guest", headers=FORGED,
                data={"name": "A Guest", "email": "guest@example.org", "institution": "X"})
    [mail] = mails("guest@example.org", "event_guest_confirm")
    assert "http://portal.test/events/guest/confirm/" in mail.body_text
    assert "phish" not in mail.body_text + (mail.body_html or "")
