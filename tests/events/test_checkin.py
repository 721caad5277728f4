"""At the door: passes, the check-in page on a phone, walk-ins, no double check-in."""

from __future__ import annotations

from sqlalchemy import select

from portal.events.models import Registration, RegStatus
from portal.extensions import db
from tests.events import factories

HTMX = {"HX-Request": "true"}


def test_the_pass_shows_a_qr_code_of_an_unguessable_code(client, login_as, factory) -> None:
    user, record = factories.alumnus(factory, given_names="Lan", family_name="Nguyen")
    event = factories.event()
    reg = factories.registration(event, record)
    other = factories.registration(event, factories.alumnus(factory)[1])
    login_as(user)
    page = client.get(f"/events/{event.id}/pass").get_data(as_text=True)
    assert "<svg" in page and "Lan Nguyen" in page
    shown = reg.pass_code[:4] + "-" + reg.pass_code[4:8] + "-" + reg.pass_code[8:]
    assert shown in page
    assert len(reg.pass_code) == 12 and reg.pass_code != other.pass_code
    assert set(reg.pass_code) <= set("23456789ABCDEFGHJKMNPQRSTVWXYZ")


def test_checking_in_by_typed_code_and_refusing_twice(client, login_as, factory) -> None:
    staff = factory.staff(name="Keiko Door")
    event = factories.event()
    reg = factories.registration(event, factories.alumnus(factory, given_names="Anan",
                                                          family_name="Srisuk")[1])
    login_as(staff)
    page = client.get(f"/admin/events/{event.id}/check-in").get_data(as_text=True)
    assert "vendor/jsQR.js" in page and "js/checkin.js" in page
    assert "<script>" not in page  # no inline script (CSP)

    typed = reg.pass_code.lower()[:6] + " " + reg.pass_code.lower()[6:]  # case, spaces: fine
    first = client.post(f"/admin/events/{event.id}/check-in", data={"code": typed},
                        headers=HTMX)
    assert first.status_code == 200
    assert "Checked in: Anan Srisuk" in first.get_data(as_text=True)

    again = client.post(f"/admin/events/{event.id}/check-in", data={"code": reg.pass_code},
                        headers=HTMX)
    text = again.get_data(as_text=True)
    assert again.status_code == 409  # already done (a conflict), shown in the fragment
    assert "Anan Srisuk was already checked in by Keiko Door" in text
    assert "At " in text
    row = db.session.get(Registration, reg.id, populate_existing=True)
    assert row.checked_in_by_id == staff.id


def test_unknown_waitlisted_and_other_event_codes_are_refused(client, login_as, factory) -> None:
    event, other_event = factories.event(), factories.event()
    waiting = factories.registration(event, factories.alumnus(factory)[1], status="waitlisted",
                                     waitlist_position=1, registered_at=None)
    elsewhere = factories.registration(other_event, factories.alumnus(factory)[1])
    login_as(factory.staff())
    url = f"/admin/events/{event.id}/check-in"
    for code, message in ((waiting.pass_code, "on the waitlist"),
                          (elsewhere.pass_code, "No registration for this event"),
                          ("ZZZZ-ZZZZ-ZZZZ", "No registration for this event")):
        response = client.post(url, data={"code": code}, headers=HTMX)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Registration.id).where(
        Registration.checked_in_at.is_not(None))) is None


def test_walk_ins_are_recorded_once(client, login_as, factory) -> None:
    event = factories.event(capacity=1)
    factories.registration(event, factories.alumnus(factory)[1])  # full
    login_as(factory.staff(name="Door Staff"))
    data = {"name": "Dr. Walk In", "email": "Walk.In@example.org", "institution": "Clinic"}
    first = client.post(f"/admin/events/{event.id}/walk-in", data=data, headers=HTMX)
    assert first.status_code == 200 and "Checked in: Dr. Walk In" in first.get_data(
        as_text=True)
    walk_in = db.session.scalars(select(Registration).where(
        Registration.guest_email == "walk.in@example.org")).one()
    assert walk_in.status == RegStatus.WALK_IN and walk_in.checked_in_at is not None
    assert db.session.get(type(event), event.id, populate_existing=True).seats_taken == 1

    again = client.post(f"/admin/events/{event.id}/walk-in", data=data, headers=HTMX)
    assert again.status_code == 409
    assert "already checked in by Door Staff" in again.get_data(as_text=True)


def test_check_in_without_javascript_redirects_with_a_message(client, login_as, factory) -> None:
    event = factories.event()
    reg = factories.registration(event, factories.alumnus(factory, given_names="Mai",
                                                          family_name="Tran")[1])
    login_as(factory.staff())
    response = client.post(f"/admin/events/{event.id}/check-in", data={"code": reg.pass_code})
    assert response.status_code == 303
    assert "Checked in: Mai Tran" in client.get(response.headers["Location"]).get_data(
        as_text=True)
