"""Guests without an account: register, confirm by e-mail, then hold a seat or a place."""

from __future__ import annotations

import re

from portal.events.models import Event, RegStatus
from portal.extensions import db
from tests.events import factories
from tests.events.helpers import mails

FORM = {"name": "Dr. Wanida Chaiyasit", "email": "Wanida@Clinic.example.org",
        "institution": "Chiang Mai Clinic"}


def _link(body: str, marker: str) -> str:
    return re.search(rf"http://portal\.test(\S*{marker}\S*)", body).group(1)


def test_a_guest_confirms_by_e_mail_and_gets_a_seat(client) -> None:  # noqa: ANN001
    event = factories.event(guests_allowed=True, capacity=5, mode="hybrid",
                            online_link="https://meet.example.org/guest-room")
    page = client.post(f"/events/{event.id}/guest", data=FORM)
    assert page.status_code == 200
    assert "Check your e-mail" in page.get_data(as_text=True)
    # Until confirmed, nothing is held.
    assert db.session.get(Event, event.id, populate_existing=True).seats_taken == 0
    [confirm] = mails("wanida@clinic.example.org", "event_guest_confirm")
    link = _link(confirm.body_text, "confirm")

    shown = client.get(link)  # a mail scanner opening the link changes nothing
    assert shown.status_code == 200 and "Confirm your registration" in shown.get_data(
        as_text=True)
    assert db.session.get(Event, event.id, populate_existing=True).seats_taken == 0

    done = client.post(link)
    assert done.status_code == 303
    assert db.session.get(Event, event.id, populate_existing=True).seats_taken == 1
    [mail] = mails("wanida@clinic.example.org", "event_confirmation")
    assert mail.attachments[0].content_type == "text/calendar"
    own_page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Your pass" in own_page and "<svg" in own_page
    assert "https://meet.example.org/guest-room" in own_page
    # The personal link in the mail is the same page.
    assert _link(mail.body_text, "/events/guest/") == done.headers["Location"]

    assert client.post(link).status_code == 410  # used once


def test_a_full_event_puts_the_confirmed_guest_on_the_waitlist(client, factory, req) -> None:  # noqa: ANN001
    event = factories.event(guests_allowed=True, capacity=1)
    factories.registration(event, factories.alumnus(factory)[1])
    client.post(f"/events/{event.id}/guest", data=FORM)
    link = _link(mails(template="event_guest_confirm")[0].body_text, "confirm")
    done = client.post(link)
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "on the waitlist" in page and "place 1" in page
    assert "Your pass" not in page
    assert len(mails(template="event_waitlisted")) == 1


def test_the_answer_does_not_tell_who_registered(client) -> None:  # noqa: ANN001
    event = factories.event(guests_allowed=True)
    factories.registration(event, guest_email="known@example.org", guest_name="Known")
    unknown = client.post(f"/events/{event.id}/guest",
                          data={**FORM, "email": "new@example.org"}).get_data(as_text=True)
    known = client.post(f"/events/{event.id}/guest",
                        data={**FORM, "email": "known@example.org"}).get_data(as_text=True)
    assert unknown.replace("new@example.org", "X") == known.replace("known@example.org", "X")
    # The registered guest gets their own link again, by e-mail only.
    assert len(mails("known@example.org", "event_guest_link")) == 1


def test_guests_only_where_allowed(client) -> None:  # noqa: ANN001
    alumni_only = factories.event(guests_allowed=False)
    assert client.get(f"/events/{alumni_only.id}/guest").status_code == 404
    assert client.post(f"/events/{alumni_only.id}/guest", data=FORM).status_code == 404
    assert mails() == []


def test_a_guest_cancels_and_the_seat_goes_to_the_next(client, factory, req) -> None:  # noqa: ANN001
    from portal.events.registration import guest_key

    event = factories.event(guests_allowed=True, capacity=1)
    guest = factories.registration(event)
    user, waiting = factories.alumnus(factory)
    factories.registration(event, waiting, status="waitlisted", waitlist_position=1,
                           registered_at=None)
    base = f"/events/guest/{guest.id}/{guest_key(guest)}"
    assert client.post(f"{base}/cancel").status_code == 303
    assert "Your registration is cancelled" in client.get(base).get_data(as_text=True)
    assert len(mails(user.email, "event_promoted")) == 1


def test_a_wrong_key_shows_nothing(client) -> None:  # noqa: ANN001
    event = factories.event(guests_allowed=True)
    guest = factories.registration(event)
    assert client.get(f"/events/guest/{guest.id}/{'0' * 40}").status_code == 404
    assert client.post(f"/events/guest/{guest.id}/{'0' * 40}/cancel").status_code == 404
    assert db.session.get(type(guest), guest.id).status == RegStatus.REGISTERED
