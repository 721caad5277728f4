"""Staff: events in the venue's time, publishing, materials, messages, exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from pypdf import PdfWriter
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.events.models import Event, EventMaterial, RegStatus
from portal.extensions import db
from tests.events import factories
from tests.events.helpers import mails, reg

FORM = {"kind": "demonstration", "title": "Portable ultrasound", "mode": "hybrid",
        "country": "VN", "city": "Hanoi", "venue_timezone": "Asia/Ho_Chi_Minh",
        "online_link": "https://meet.example.org/pocus", "starts_at": "2031-03-01T09:00",
        "ends_at": "2031-03-01T12:30", "capacity": "25", "cpd_hours": "3.5",
        "eligible_countries": ["VN", "TH"], "guests_allowed": "y"}


def test_staff_create_in_venue_time_and_publish(client, login_as, factory) -> None:
    alumnus_user, _ = factories.alumnus(factory, country="VN")
    login_as(factory.staff())
    created = client.post("/admin/events/new", data=FORM)
    assert created.status_code == 303
    event = db.session.scalars(select(Event).where(Event.title == "Portable ultrasound")).one()
    # 09:00 in Hanoi (UTC+7) is 02:00 UTC.
    assert event.starts_at == datetime(2031, 3, 1, 2, 0, tzinfo=UTC)
    assert event.status == "draft" and event.eligible_countries == ["TH", "VN"]
    edit = client.get(f"/admin/events/{event.id}/edit").get_data(as_text=True)
    assert 'value="2031-03-01T09:00"' in edit  # shown back in the venue's time

    login_as(alumnus_user)
    assert client.get(f"/events/{event.id}").status_code == 404
    login_as(factory.staff())
    assert client.post(f"/admin/events/{event.id}/publish").status_code == 303
    login_as(alumnus_user)
    assert client.get(f"/events/{event.id}").status_code == 200


def test_form_errors_are_shown_with_422(client, login_as, factory) -> None:
    login_as(factory.staff())
    bad = dict(FORM, ends_at="2031-03-01T08:00", online_link="")
    response = client.post("/admin/events/new", data=bad)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The end must be after the start" in text
    assert "Online and hybrid events need the link" in text
    assert db.session.scalars(select(Event)).all() == []


def test_capacity_below_the_seats_taken_is_refused(client, login_as, factory) -> None:
    event = factories.event(capacity=3, title="Small room")
    for _ in range(2):
        factories.registration(event, factories.alumnus(factory)[1])
    login_as(factory.staff())
    data = dict(FORM, title="Small room", capacity="1", country="TH", city="Bangkok",
                venue_timezone="Asia/Bangkok")
    response = client.post(f"/admin/events/{event.id}/edit", data=data)
    assert response.status_code == 422
    assert "2 seats are taken" in response.get_data(as_text=True)
    assert db.session.get(Event, event.id, populate_existing=True).capacity == 3


def test_materials_upload_checks_the_content(client, login_as, factory) -> None:
    event = factories.event()
    login_as(factory.staff())
    fake = {"title": "Not a PDF", "file": (io.BytesIO(b"MZ\x90\x00 program"), "slides.pdf")}
    client.post(f"/admin/events/{event.id}/materials", data=fake)
    assert db.session.scalars(select(EventMaterial)).all() == []
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    pdf = io.BytesIO()
    writer.write(pdf)
    pdf = pdf.getvalue()
    ok = client.post(f"/admin/events/{event.id}/materials",
                     data={"title": "Programme", "file": (io.BytesIO(pdf), "programme.pdf")})
    assert ok.status_code == 303
    assert "Programme" in client.get(f"/admin/events/{event.id}").get_data(as_text=True)


def test_message_all_registrants_each_in_their_language(client, login_as, factory) -> None:
    event = factories.event(capacity=2)
    ja_user, ja = factories.alumnus(factory, language="ja")
    en_user, en = factories.alumnus(factory)
    wait_user, waiting = factories.alumnus(factory)
    factories.registration(event, ja)
    factories.registration(event, en)
    factories.registration(event, waiting, status="waitlisted", waitlist_position=1,
                           registered_at=None)
    login_as(factory.staff())
    response = client.post(f"/admin/events/{event.id}/message",
                           data={"subject": "Room change", "body": "We meet in Hall B."})
    assert response.status_code == 303
    sent = {m.to_addr: m for m in mails(template="event_message")}
    assert set(sent) == {ja_user.email, en_user.email}  # not the waitlist unless asked
    assert sent[ja_user.email].language == "ja" and sent[en_user.email].language == "en"
    assert "We meet in Hall B." in sent[en_user.email].body_text
    client.post(f"/admin/events/{event.id}/message",
                data={"subject": "Again", "body": "Also for the line.", "include_waitlist": "y"})
    assert len(mails(wait_user.email, "event_message")) == 1


def test_exports_are_safe_against_formulas(client, login_as, factory) -> None:
    event = factories.event(capacity=1)
    factories.registration(event, factories.alumnus(
        factory, given_names="=HYPERLINK(\"http://evil\")", family_name="@Sum")[1])
    factories.registration(event, guest_name="+Guest", guest_institution="-Clinic",
                           status="waitlisted", waitlist_position=1, registered_at=None)
    login_as(factory.staff())

    text = client.get(f"/admin/events/{event.id}/registrations.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Name"
    assert rows[1][0].startswith("'=HYPERLINK")
    assert rows[2][0] == "'+Guest" and rows[2][2] == "'-Clinic" and rows[2][6] == "1"

    xlsx = client.get(f"/admin/events/{event.id}/registrations.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][0].startswith("'=HYPERLINK")
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert values[2][6] == 1


def test_staff_cancel_a_registration_and_the_line_moves(client, login_as, factory) -> None:
    event = factories.event(capacity=1)
    holder = factories.registration(event, factories.alumnus(factory)[1])
    waiting = factories.registration(event, factories.alumnus(factory)[1], status="waitlisted",
                                     waitlist_position=1, registered_at=None)
    login_as(factory.staff())
    response = client.post(f"/admin/events/{event.id}/registrations/{holder.id}/cancel")
    assert response.status_code == 303
    assert reg(holder.id).status == RegStatus.CANCELLED
    assert reg(waiting.id).status == RegStatus.REGISTERED


def test_materials_over_the_size_setting_are_refused(client, app_ctx, login_as, factory,
                                                     monkeypatch) -> None:
    monkeypatch.setitem(app_ctx.config, "EVENT_MATERIAL_MAX_MB", 0)
    event = factories.event()
    login_as(factory.staff())
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    plain = client.post(f"/admin/events/{event.id}/materials",
                        data={"title": "Big", "file": (io.BytesIO(png), "big.png")})
    assert plain.status_code == 303
    assert "larger than the limit" in client.get(plain.headers["Location"]).get_data(
        as_text=True)
    htmx = client.post(f"/admin/events/{event.id}/materials", headers={"HX-Request": "true"},
                       data={"title": "Big", "file": (io.BytesIO(png), "big.png")})
    assert htmx.status_code == 413 and "larger than the limit" in htmx.get_data(as_text=True)
    assert db.session.scalars(select(EventMaterial)).all() == []


def test_the_staff_list_pages_and_filters(client, login_as, factory) -> None:
    for n in range(26):
        start = datetime(2031, 1, 1, tzinfo=UTC) + timedelta(days=n)
        factories.event(title=f"Event {n:02d}", starts_at=start,
                        ends_at=start + timedelta(hours=1))
    later = datetime(2032, 1, 1, tzinfo=UTC)
    factories.event(title="Draft one", status="draft", starts_at=later,
                    ends_at=later + timedelta(hours=1))
    login_as(factory.staff())
    first = client.get("/admin/events?per_page=25").get_data(as_text=True)
    assert "Draft one" in first and "Event 25" in first and "Event 01" not in first
    assert "page=2" in first  # a link to the next page
    second = client.get("/admin/events?per_page=25&page=2").get_data(as_text=True)
    assert "Event 01" in second and "Event 00" in second and "Event 25" not in second
    drafts = client.get("/admin/events?status=draft", headers={"HX-Request": "true"})
    text = drafts.get_data(as_text=True)
    assert "<html" not in text and "Draft one" in text and "Event 00" not in text
    # A tampered link still opens the list.
    assert client.get("/admin/events?status=nonsense&page=-3&per_page=7").status_code == 200


def test_staff_actions_are_logged_with_who_did_them(client, login_as, factory) -> None:
    event = factories.event(capacity=1)
    holder = factories.registration(event, factories.alumnus(factory)[1])
    staff = factory.staff()
    login_as(staff)
    client.post(f"/admin/events/{event.id}/registrations/{holder.id}/cancel")
    client.get(f"/admin/events/{event.id}/registrations.csv")
    client.post(f"/admin/events/{event.id}/cancel")
    logged = {a.action: a for a in db.session.scalars(select(AuditEvent))}
    for action in ("event.registration_cancelled", "event.exported", "event.cancelled"):
        assert logged[action].actor_id == staff.id, action
    assert logged["event.registration_cancelled"].details["registration"] == holder.id
