"""Guests without an account: register, confirm by e-mail, then hold a seat or a place."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.db import utcnow
from portal.events.codes import guest_key
from portal.events.models import Event, Feedback, Registration, RegStatus
from portal.extensions import db
from tests.events import factories
from tests.events.helpers import mails

FORM = {"name": "Dr. Wanida Chaiyasit", "email": "Wanida@Clinic.example.org",
        "institution": "Chiang Mai Clinic"}


def _link(body: str, marker: str) -> str:
    return re.search(rf"http://portal\.test(\S*{marker}\S*)", body).group(1)


def test_a_guest_confirms_by_e_mail_and_gets_a_seat(client) -> None:
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


def test_a_full_event_puts_the_confirmed_guest_on_the_waitlist(client, factory, req) -> None:
    event = factories.event(guests_allowed=True, capacity=1)
    factories.registration(event, factories.alumnus(factory)[1])
    client.post(f"/events/{event.id}/guest", data=FORM)
    link = _link(mails(template="event_guest_confirm")[0].body_text, "confirm")
    done = client.post(link)
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "on the waitlist" in page and "place 1" in page
    assert "Your pass" not in page
    assert len(mails(template="event_waitlisted")) == 1


def _shown(response) -> tuple[int, str]:
    """What a person reads: the status and the text of the main part of the page (not the
    markup, whose CSRF token changes from one answer to the next)."""
    html = response.get_data(as_text=True)
    main = html[html.index("<main"):html.index("</main>")]
    return response.status_code, " ".join(re.sub(r"<[^>]+>", " ", main).split())


def test_the_answer_does_not_tell_who_registered(client) -> None:
    event = factories.event(guests_allowed=True, capacity=1)
    factories.registration(event, guest_email="known@example.org", guest_name="Known")
    factories.registration(event, guest_email="waiting@example.org", status="waitlisted",
                           waitlist_position=1, registered_at=None)
    factories.registration(event, guest_email="asked@example.org", status="pending",
                           guest_salt=None, registered_at=None)
    factories.registration(event, guest_email="came@example.org", status="walk_in",
                           checked_in_at=event.starts_at, registered_at=None)
    answers = {email: _shown(client.post(f"/events/{event.id}/guest",
                                         data={**FORM, "email": email}))
               for email in ("new@example.org", "known@example.org", "waiting@example.org",
                             "asked@example.org", "came@example.org")}
    seen = {(status, text.replace(email, "X")) for email, (status, text) in answers.items()}
    assert len(seen) == 1, seen
    [(status, text)] = seen
    assert status == 200 and "Check your e-mail" in text and "already" not in text
    # Confirmed guests get their own link again, by e-mail only; the others nothing new
    # but another confirmation link where one is still to be used.
    assert len(mails("known@example.org", "event_guest_link")) == 1
    assert len(mails("waiting@example.org", "event_guest_link")) == 1
    assert mails("came@example.org") == []
    assert len(mails("asked@example.org", "event_guest_confirm")) == 1


def test_guests_only_where_allowed(client) -> None:
    alumni_only = factories.event(guests_allowed=False)
    assert client.get(f"/events/{alumni_only.id}/guest").status_code == 404
    assert client.post(f"/events/{alumni_only.id}/guest", data=FORM).status_code == 404
    assert mails() == []


def test_a_guest_cancels_and_the_seat_goes_to_the_next(client, factory, req) -> None:
    event = factories.event(guests_allowed=True, capacity=1)
    guest = factories.registration(event)
    user, waiting = factories.alumnus(factory)
    factories.registration(event, waiting, status="waitlisted", waitlist_position=1,
                           registered_at=None)
    base = f"/events/guest/{guest.id}/{guest_key(guest)}"
    assert client.post(f"{base}/cancel").status_code == 303
    assert "Your registration is cancelled" in client.get(base).get_data(as_text=True)
    assert len(mails(user.email, "event_promoted")) == 1


def test_a_wrong_key_shows_nothing(client) -> None:
    event = factories.event(guests_allowed=True)
    guest = factories.registration(event)
    assert client.get(f"/events/guest/{guest.id}/{'0' * 40}").status_code == 404
    assert client.post(f"/events/guest/{guest.id}/{'0' * 40}/cancel").status_code == 404
    assert db.session.get(type(guest), guest.id).status == RegStatus.REGISTERED


def test_guest_requests_are_limited_by_the_setting(client, app_ctx, monkeypatch) -> None:
    monkeypatch.setitem(app_ctx.config, "EVENT_GUEST_LIMIT", "2 per hour")
    event = factories.event(guests_allowed=True)
    answers = [client.post(f"/events/{event.id}/guest",
                           data={**FORM, "email": f"g{n}@example.org"}).status_code
               for n in range(3)]
    assert answers == [200, 200, 429]
    assert len(mails(template="event_guest_confirm")) == 2


def test_a_confirmation_after_registration_closed_holds_nothing(client) -> None:
    event = factories.event(guests_allowed=True, capacity=3)
    client.post(f"/events/{event.id}/guest", data=FORM)
    link = _link(mails(template="event_guest_confirm")[0].body_text, "confirm")
    stored = db.session.get(Event, event.id)
    stored.registration_closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    answer = client.post(link)
    assert answer.status_code == 410
    assert "Registration for this event is not open" in answer.get_data(as_text=True)
    assert db.session.get(Event, event.id, populate_existing=True).seats_taken == 0
    [row] = db.session.scalars(select(Registration)).all()
    assert row.status == RegStatus.PENDING and mails(template="event_confirmation") == []


def test_after_the_event_a_guest_gets_the_certificate_and_answers_once(client) -> None:
    event = factories.past_event(guests_allowed=True, title="Dialysis day")
    guest = factories.registration(event, guest_name="Dr. Guest Person",
                                   checked_in_at=event.starts_at)
    base = f"/events/guest/{guest.id}/{guest_key(guest)}"
    page = client.get(base).get_data(as_text=True)
    assert "Download my certificate" in page and 'name="rating"' in page
    prepared = client.post(f"{base}/certificate")
    assert prepared.status_code == 303 and prepared.headers["Location"].endswith(
        f"{base}/certificate.pdf")
    pdf = client.get(prepared.headers["Location"])
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"

    invalid = client.post(f"{base}/feedback", data={"rating": "9"})
    assert invalid.status_code == 422 and 'name="rating"' in invalid.get_data(as_text=True)
    assert client.post(f"{base}/feedback", data={"rating": "4"}).status_code == 303
    again = client.post(f"{base}/feedback", data={"rating": "1"})
    assert again.status_code == 303
    shown = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "You have already answered this survey" in shown
    assert [f.rating for f in db.session.scalars(select(Feedback))] == [4]


def test_asking_again_for_a_pending_address_changes_nothing_stored(client) -> None:
    """Issue 12, point 4: someone who knows a pending guest's address cannot replace their
    name and institution; the request only sends the confirmation again, and what it asked
    for applies only when its own link is confirmed."""
    event = factories.event(guests_allowed=True, capacity=5)
    client.post(f"/events/{event.id}/guest", data=FORM)
    first = _link(mails(template="event_guest_confirm")[0].body_text, "confirm")
    other = client.post(f"/events/{event.id}/guest", data={
        **FORM, "name": "Mallory Impostor", "institution": "Fake Clinic"})
    assert other.status_code == 200 and "Check your e-mail" in other.get_data(as_text=True)
    row = db.session.scalars(select(Registration)).one()
    db.session.refresh(row)
    assert (row.guest_name, row.guest_institution) == (FORM["name"], FORM["institution"])
    assert len(mails("wanida@clinic.example.org", "event_guest_confirm")) == 2

    # The first link confirms what was asked first.
    assert client.post(first).status_code == 303
    db.session.refresh(row)
    assert row.status == RegStatus.REGISTERED and row.guest_name == FORM["name"]


def test_the_details_of_a_repeat_apply_only_through_its_own_link(client) -> None:
    event = factories.event(guests_allowed=True, capacity=5)
    client.post(f"/events/{event.id}/guest", data=FORM)
    client.post(f"/events/{event.id}/guest", data={**FORM, "name": "Dr. W. Chaiyasit"})
    second = _link(mails(template="event_guest_confirm")[1].body_text, "confirm")
    row = db.session.scalars(select(Registration)).one()
    assert row.guest_name == FORM["name"]
    assert client.post(second).status_code == 303
    db.session.refresh(row)
    assert row.guest_name == "Dr. W. Chaiyasit" and row.status == RegStatus.REGISTERED
