"""What alumni see and do on the events pages (HTTP, both backends)."""

from __future__ import annotations

import io
import time
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.events import registration as seats
from portal.events.models import EventMaterial, RegStatus
from portal.extensions import db
from portal.storage import store_upload
from tests.events import factories
from tests.events.helpers import mails, registration_of

SECRET_LINK = "https://meet.example.org/room-4711"


def _material(event, title: str = "Slides") -> EventMaterial:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(data, "PNG")
    data.seek(0)
    blob = store_upload(data, original_name="slides.png", allowed={"png"}, max_bytes=10**6,
                        user_id=None)
    item = EventMaterial(event_id=event.id, blob_id=blob.id, title=title)
    db.session.add(item)
    db.session.commit()
    return item


def test_the_list_shows_eligible_events_own_country_first(client, login_as, factory) -> None:
    user, _ = factories.alumnus(factory, country="VN", timezone="Asia/Ho_Chi_Minh")
    soon = utcnow() + timedelta(days=5)
    factories.event(title="Bangkok lecture", starts_at=soon,
                    ends_at=soon + timedelta(hours=2))
    factories.event(title="Hanoi seminar", city="Hanoi", country="VN",
                    venue_timezone="Asia/Ho_Chi_Minh", starts_at=soon + timedelta(days=20),
                    ends_at=soon + timedelta(days=20, hours=2))
    factories.event(title="Thai alumni only", eligible_countries=["TH"])
    factories.event(title="Still a draft", status="draft")
    factories.past_event(title="Already over")
    login_as(user)

    page = client.get("/events").get_data(as_text=True)
    assert page.index("Hanoi seminar") < page.index("Bangkok lecture")  # own country first
    assert "Thai alumni only" not in page
    assert "Still a draft" not in page
    assert "Already over" not in page
    # Venue time (Bangkok, +07) and, as the viewer's zone is the same offset but another
    # zone, their own time too.
    assert "venue time" in page
    assert "Your time" in page


def test_the_seats_fragment_is_polled_and_live(client, login_as, factory, req) -> None:
    user, _ = factories.alumnus(factory)
    event = factories.event(capacity=3)
    login_as(user)
    fragment = client.get(f"/events/{event.id}/seats", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text
    assert 'hx-trigger="every 10s"' in text
    assert "3 seats left of 3" in text

    seats.register_alumnus(event, factories.alumnus(factory)[1])
    db.session.commit()
    text = client.get(f"/events/{event.id}/seats", headers={"HX-Request": "true"}).get_data(
        as_text=True)
    assert "2 seats left of 3" in text


def test_register_then_cancel_through_the_pages(client, login_as, factory) -> None:
    user, record = factories.alumnus(factory)
    waiting_user, waiting = factories.alumnus(factory)
    event = factories.event(capacity=1, title="Echo workshop")
    login_as(user)

    response = client.post(f"/events/{event.id}/register")
    assert response.status_code == 303
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "You are registered" in page
    assert "Show my pass" in page
    assert "Full: new registrations join the waitlist" in page

    login_as(waiting_user)
    client.post(f"/events/{event.id}/register")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "on the waitlist" in page and "place 1" in page

    login_as(user)
    assert client.post(f"/events/{event.id}/cancel").status_code == 303
    assert "Your registration is cancelled" in client.get(f"/events/{event.id}").get_data(
        as_text=True)
    assert registration_of(event.id, waiting.id).status == RegStatus.REGISTERED
    assert len(mails(waiting_user.email, "event_promoted")) == 1


def test_online_link_only_for_people_with_a_seat(client, login_as, factory, req) -> None:
    event = factories.event(capacity=1, mode="hybrid", online_link=SECRET_LINK)
    holder_user, holder = factories.alumnus(factory)
    waiting_user, waiting = factories.alumnus(factory)
    onlooker, _ = factories.alumnus(factory)
    seats.register_alumnus(event, holder)
    seats.register_alumnus(event, waiting)
    db.session.commit()

    login_as(holder_user)
    assert SECRET_LINK in client.get(f"/events/{event.id}").get_data(as_text=True)
    assert SECRET_LINK in client.get(f"/events/{event.id}/calendar.ics").get_data(as_text=True)
    for user in (waiting_user, onlooker):
        login_as(user)
        assert SECRET_LINK not in client.get(f"/events/{event.id}").get_data(as_text=True)
        assert SECRET_LINK not in client.get(f"/events/{event.id}/calendar.ics").get_data(
            as_text=True)
    waitlist_mail = mails(waiting_user.email, "event_waitlisted")[0]
    assert SECRET_LINK not in waitlist_mail.body_text
    assert SECRET_LINK in mails(holder_user.email, "event_confirmation")[0].body_text


def test_materials_only_for_registered_people_and_downloads_are_logged(
        client, login_as, factory) -> None:
    event = factories.event(capacity=1)
    item = _material(event, "Case slides")
    holder_user, holder = factories.alumnus(factory)
    waiting_user, waiting = factories.alumnus(factory)
    factories.registration(event, holder)
    factories.registration(event, waiting, status="waitlisted", waitlist_position=1,
                           registered_at=None)
    url = f"/events/{event.id}/materials/{item.id}"

    login_as(holder_user)
    assert "Case slides" in client.get(f"/events/{event.id}").get_data(as_text=True)
    download = client.get(url)
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.data.startswith(b"\x89PNG")
    logged = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.downloaded")).all()
    assert [(a.actor_id, a.details["material_id"]) for a in logged] == [
        (holder_user.id, item.id)]

    login_as(waiting_user)
    assert "Case slides" not in client.get(f"/events/{event.id}").get_data(as_text=True)
    assert client.get(url).status_code == 404


def test_events_one_may_not_know_are_404(client, login_as, factory) -> None:
    user, _ = factories.alumnus(factory, country="VN")
    thai_only = factories.event(eligible_countries=["TH"])
    draft = factories.event(status="draft")
    login_as(user)
    for event in (thai_only, draft):
        assert client.get(f"/events/{event.id}").status_code == 404
        assert client.post(f"/events/{event.id}/register").status_code == 404
    assert registration_of(thai_only.id, _.id) is None


def test_attendee_list_is_for_staff_only(client, login_as, factory) -> None:
    event = factories.event()
    user, record = factories.alumnus(factory, given_names="Somsak", family_name="Private")
    factories.registration(event, record)
    login_as(factory.staff())
    assert "Somsak Private" in client.get(f"/admin/events/{event.id}").get_data(as_text=True)
    login_as(user)
    for url in (f"/admin/events/{event.id}", f"/admin/events/{event.id}/registrations.csv"):
        response = client.get(url)
        assert response.status_code == 403
        assert b"Somsak" not in response.data


def test_dashboard_lists_my_registrations_and_open_events(client, login_as, factory) -> None:
    user, record = factories.alumnus(factory)
    mine = factories.event(title="My lecture")
    factories.event(title="Another lecture")
    factories.registration(mine, record)
    login_as(user)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Follow-up events" in page
    section = page[page.index("Follow-up events"):]
    assert section.index("My lecture") < section.index("Upcoming events open to you")
    assert "Another lecture" in section


def test_without_an_alumni_record_the_page_explains(client, login_as, factory) -> None:
    login_as(factory.alumnus())
    factories.event(title="Somewhere")
    page = client.get("/events").get_data(as_text=True)
    assert "not linked to an alumni record" in page
    assert "Somewhere" not in page


def test_registering_twice_says_so_as_a_conflict(client, login_as, factory) -> None:
    user, _ = factories.alumnus(factory)
    event = factories.event()
    login_as(user)
    assert client.post(f"/events/{event.id}/register").status_code == 303
    again = client.post(f"/events/{event.id}/register")
    assert again.status_code == 303 and again.headers["Location"] == f"/events/{event.id}"
    assert "You are already registered" in client.get(again.headers["Location"]).get_data(
        as_text=True)
    htmx = client.post(f"/events/{event.id}/register", headers={"HX-Request": "true"})
    assert htmx.status_code == 409
    assert htmx.headers["HX-Retarget"] == "#flashes"
    assert "You are already registered" in htmx.get_data(as_text=True)
    assert db.session.get(type(event), event.id, populate_existing=True).seats_taken == 1


def test_cancelling_after_the_start_is_refused_and_changes_nothing(client, login_as,
                                                                   factory) -> None:
    user, record = factories.alumnus(factory)
    event = factories.event(starts_at=utcnow() - timedelta(minutes=5),
                            ends_at=utcnow() + timedelta(hours=2))
    factories.registration(event, record)
    login_as(user)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Cancel my registration" not in page
    refused = client.post(f"/events/{event.id}/cancel")
    assert refused.status_code == 303
    assert "cannot be cancelled any more" in client.get(refused.headers["Location"]).get_data(
        as_text=True)
    assert registration_of(event.id, record.id).status == RegStatus.REGISTERED


def test_polling_the_seats_does_not_keep_a_session_alive(client, login_as, factory) -> None:
    """Issue 12, point 14: the page polls every 10 s; a browser left open must still be
    signed out after IDLE_TIMEOUT_MINUTES without the person doing anything."""
    user, _ = factories.alumnus(factory)
    event = factories.event(capacity=3)
    login_as(user)
    poll = {"HX-Request": "true", "HX-Trigger": f"seats-{event.id}"}
    idle_since = int(time.time()) - 29 * 60
    with client.session_transaction() as session:
        session["seen"] = idle_since
    assert client.get(f"/events/{event.id}/seats", headers=poll).status_code == 200
    with client.session_transaction() as session:
        assert session["seen"] == idle_since  # the poll was not activity
        session["seen"] = int(time.time()) - 31 * 60
    # The next poll finds the session idle: signed out, and htmx is sent to the sign-in
    # page as a whole page (not swapped into the seat count).
    ended = client.get(f"/events/{event.id}/seats", headers=poll)
    assert ended.status_code == 204 and ended.headers["HX-Redirect"].startswith("/login")
    assert client.get("/events").status_code == 302
    # Opening a page is activity.
    login_as(user)
    with client.session_transaction() as session:
        session["seen"] = idle_since
    assert client.get(f"/events/{event.id}/seats").status_code == 200
    with client.session_transaction() as session:
        assert session["seen"] > idle_since
