"""Review settings: the window entered in a zone and stored as UTC moments, shown in Japan
time and the viewer's zone; numbers and choices checked; blind review said plainly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.review import setup
from portal.review.blind import BLIND_EXPLAINED
from portal.review.models import ReviewSetup
from tests.factories import Factory
from tests.nominations.factories import make_cycle

FORM = {"timezone": "Asia/Kuala_Lumpur", "opens_local": "2030-03-01T09:00",
        "closes_local": "2030-03-20T17:30", "reviews_wanted": "4", "default_load": "12",
        "blind_fields": ["institution", "name"], "others_visible": "after_own",
        "confidentiality_text": "Keep it to yourself.", "disagreement_threshold": "0.4"}


def test_staff_set_the_window_in_a_zone_and_see_it_in_japan_time(
        client: FlaskClient, factory: Factory, login_as: Callable[..., object]) -> None:
    cycle = make_cycle()
    staff = factory.staff(timezone="Europe/Paris")
    login_as(staff)
    response = client.post(f"/staff/review/{cycle.id}/settings", data=FORM)
    assert response.status_code == 303
    saved = db.session.scalar(db.select(ReviewSetup).where(ReviewSetup.cycle_id == cycle.id))
    assert saved is not None
    # 09:00 in Kuala Lumpur (UTC+8) is 01:00 UTC; 17:30 is 09:30 UTC.
    assert saved.opens_at == datetime(2030, 3, 1, 1, 0, tzinfo=UTC)
    assert saved.closes_at == datetime(2030, 3, 20, 9, 30, tzinfo=UTC)
    assert (saved.reviews_wanted, saved.default_load) == (4, 12)
    assert saved.blind_fields == ["name", "institution"]  # in the fields' own order
    assert saved.others_named is False
    page = " ".join(client.get(f"/staff/review/{cycle.id}").text.split())  # babel's U+202F
    assert "Mar 20, 2030, 6:30:00 PM JST" in page  # 09:30 UTC in Japan
    assert "Mar 20, 2030, 10:30:00 AM CET" in page  # and in the viewer's zone (Paris)
    form = client.get(f"/staff/review/{cycle.id}/settings").text
    assert 'value="2030-03-20T17:30"' in form  # edited in the zone it was entered in
    assert str(BLIND_EXPLAINED[1]) in form  # what blind covers, said on the page
    assert "Contact details, passport data and sensitive documents are never shown" in form
    event = db.session.scalar(db.select(AuditEvent).where(
        AuditEvent.action == "review.settings_changed"))
    assert event is not None and event.actor_id == staff.id


def test_refused_values_keep_the_settings_as_they_were(
        client: FlaskClient, factory: Factory, login_as: Callable[..., object]) -> None:
    cycle = make_cycle()
    login_as(factory.staff())
    bad = dict(FORM, closes_local="2030-02-01T09:00")
    response = client.post(f"/staff/review/{cycle.id}/settings", data=bad)
    assert response.status_code == 422
    assert "Review must close after it opens." in response.text
    response = client.post(f"/staff/review/{cycle.id}/settings",
                           data=dict(FORM, reviews_wanted="0"))
    assert response.status_code == 422
    assert db.session.scalar(db.select(ReviewSetup)) is None


def test_services_refuse_what_forms_cannot_send(app_ctx: object) -> None:
    cycle = make_cycle()
    values = {"timezone": "Asia/Tokyo", "opens_local": None, "closes_local": None,
              "reviews_wanted": 3, "default_load": 15, "blind_fields": ["eye_colour"],
              "others_visible": "after_own", "disagreement_threshold": 0.35}
    for change, message in ((dict(blind_fields=["eye_colour"]), "Unknown blind field"),
                            (dict(timezone="Mars/Olympus"), "time zone"),
                            (dict(others_visible="always"), "each other's reviews"),
                            (dict(disagreement_threshold=1.5), "between 0 and 1"),
                            (dict(closes_local=datetime(2030, 1, 1)), "opens")):
        try:
            setup.update_settings(cycle, {**values, "blind_fields": [], **change}, None)
        except setup.SetupError as e:
            assert message in str(e)
        else:
            raise AssertionError(f"{change} was accepted")
    assert setup.update_settings(cycle, {**values, "blind_fields": []}, None) == []


def test_the_phase_follows_the_window(app_ctx: object) -> None:
    now = datetime(2030, 3, 10, tzinfo=UTC)
    row = ReviewSetup(opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=5))
    assert setup.phase(None, now) == setup.ReviewPhase.NOT_SET_UP
    assert setup.phase(ReviewSetup(), now) == setup.ReviewPhase.UNSCHEDULED
    assert setup.phase(row, now) == setup.ReviewPhase.UPCOMING
    assert setup.phase(row, now + timedelta(days=2)) == setup.ReviewPhase.OPEN
    assert setup.phase(row, now + timedelta(days=5)) == setup.ReviewPhase.CLOSED
    row.decisions_published_at = now
    assert setup.phase(row, now + timedelta(days=2)) == setup.ReviewPhase.PUBLISHED
