"""Events in a real browser: an alumnus registers and cancels, and the alumnus waiting in
line is promoted to the freed seat (and told by e-mail)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from portal.alumni.models import Alumnus
from portal.db import utcnow
from portal.events.codes import format_pass_code, new_pass_code
from portal.events.models import Event, Registration
from portal.extensions import db
from portal.notify.models import OutboxMessage
from tests.e2e.conftest import assert_accessible, no_horizontal_scroll, sign_in, wide_elements

pytestmark = pytest.mark.e2e

SOMCHAI = "alumnus1@example.org"  # Thailand
LAN = "alumnus2@example.org"  # Viet Nam


@pytest.fixture
def one_seat(e2e_app) -> Iterator[int]:
    """A published event with a single seat, open to the demo alumni of TH and VN; removed
    afterwards (the demo database is shared by the session's browser tests)."""
    with e2e_app.app_context():
        start = utcnow().replace(microsecond=0) + timedelta(days=9)
        event = Event(title="One-seat masterclass", kind="seminar", city="Bangkok",
                      country="TH", venue_timezone="Asia/Bangkok", mode="in_person",
                      address="Siriraj Hospital", starts_at=start,
                      ends_at=start + timedelta(hours=2), capacity=1, seats_taken=0,
                      waitlist_last=0, status="published", eligible_countries=["TH", "VN"],
                      eligible_specialties=[])
        db.session.add(event)
        db.session.commit()
        event_id = event.id
    yield event_id
    with e2e_app.app_context():
        db.session.delete(db.session.get(Event, event_id))
        db.session.commit()


def _status(tab: Any) -> str:
    return tab.locator(".registration-box .reg-status").inner_text()


def test_register_cancel_and_the_waitlist_moves_up(page, phone, live_server, e2e_app,
                                                   one_seat) -> None:
    url = f"{live_server}/events/{one_seat}"

    sign_in(page, live_server, SOMCHAI, reuse=True)
    page.goto(f"{live_server}/events")
    page.get_by_role("link", name="One-seat masterclass").click()
    page.get_by_role("button", name="Register").click()
    assert "You are registered" in page.locator("#flashes").inner_text()
    assert _status(page) == "registered"
    assert "Full" in page.locator(f"#seats-{one_seat}").inner_text()
    assert_accessible(page)

    sign_in(phone, live_server, LAN, reuse=True)
    phone.goto(url)
    phone.get_by_role("button", name="Join the waitlist").click()
    assert _status(phone).startswith("on the waitlist")
    assert "place 1" in _status(phone)
    assert no_horizontal_scroll(phone), wide_elements(phone)

    page.once("dialog", lambda dialog: dialog.accept())  # "Cancel your registration?"
    page.get_by_role("button", name="Cancel my registration").click()
    assert "Your registration is cancelled" in page.locator("#flashes").inner_text()
    # The freed seat went to the next in line at once: a newcomer would join the waitlist.
    assert page.get_by_role("button", name="Join the waitlist").is_visible()

    phone.reload()
    assert _status(phone) == "registered"
    phone.get_by_role("button", name="Show my pass").click()
    assert phone.locator(".pass-qr svg").is_visible()

    with e2e_app.app_context():
        promoted = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.to_addr == LAN, OutboxMessage.template == "event_promoted")).all()
        assert len(promoted) == 1 and "One-seat masterclass" in promoted[0].subject


def test_check_in_on_a_phone_by_typed_code(phone, live_server, e2e_app, one_seat) -> None:
    with e2e_app.app_context():
        record = db.session.scalars(select(Alumnus).where(
            Alumnus.email == SOMCHAI)).first() or db.session.scalars(select(Alumnus)).first()
        reg = Registration(event_id=one_seat, alumnus_id=record.id, status="registered",
                           source="alumnus", pass_code=new_pass_code())
        db.session.add(reg)
        db.session.commit()
        code, name = format_pass_code(reg.pass_code), record.display_name

    sign_in(phone, live_server, "admin@example.org", reuse=True)
    phone.goto(f"{live_server}/admin/events/{one_seat}/check-in")
    assert no_horizontal_scroll(phone), wide_elements(phone)
    assert_accessible(phone)
    phone.get_by_role("button", name="Start the camera").click()  # no camera here
    phone.get_by_label("Pass code").fill(code.lower())
    phone.get_by_role("button", name="Check in").click()
    result = phone.locator("#checkin-result")
    result.get_by_text(f"Checked in: {name}").wait_for()
    assert phone.get_by_label("Pass code").input_value() == ""  # ready for the next
    phone.get_by_label("Pass code").fill(code)
    phone.get_by_role("button", name="Check in").click()
    result.get_by_text("already checked in by Keiko Tanaka").wait_for()
