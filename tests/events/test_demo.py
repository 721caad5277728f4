"""The demo's events: past with attendance and certificates, open, full, announced."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.events.models import Certificate, Event, Registration, RegStatus
from portal.extensions import db
from tests.conftest import login


def test_demo_events_show_every_stage(app_ctx) -> None:
    result = app_ctx.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    events = {e.title: e for e in db.session.scalars(select(Event))}
    assert {e.country for e in events.values()} >= {"TH", "VN", "MY"}
    past = [e for e in events.values() if e.is_over()]
    assert past and db.session.scalar(select(func.count(Certificate.id))) > 0
    full = [e for e in events.values() if e.status == "published" and e.seats_left == 0]
    assert full
    waiting = db.session.scalar(select(func.count(Registration.id)).where(
        Registration.event_id == full[0].id, Registration.status == RegStatus.WAITLISTED))
    assert waiting >= 2
    assert any(e.registration_open() and e.seats_left for e in events.values())
    assert any(e.registration_opens_later() for e in events.values())

    # The demo alumni see it: Ahmad (Malaysia) is in line for the full seminar.
    client = app_ctx.test_client()
    ahmad = db.session.scalars(select(User).where(User.email == "alumnus3@example.org")).one()
    login(client, ahmad, "demo-pass-2026")
    page = client.get(f"/events/{full[0].id}").get_data(as_text=True)
    assert "on the waitlist" in page and "place 2" in page
