"""Staff: events in the venue's time, publishing, materials, messages, exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from openpyxl import load_workbook
from pypdf import PdfWriter
from sqlalchemy import select

from portal.events.models import Event, EventMaterial, RegStatus
from portal.extensions import db
from tests.events import factories
from tests.events.helpers import mails, reg

FORM = {"kind": "demonstration", "title": "Portable ultrasound", "mode": "hybrid",
        "country": "VN", "city": "Hanoi", "venue_timezone": "Asia/Ho_Chi_Minh",
        "online_link": "https://meet.example.org/pocus", "starts_at": "2031-03-01T09:00",
        "ends_at": "2031-03-01T12:30", "capacity": "25", "cpd_hours": "3.5",
        "eligible_countries": ["VN", "TH"], "guests_allowed": "y"}


def test_staff_create_in_venue_time_and_publish(client, login_as, factory) -> None:  # noqa: ANN001
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


def test_form_errors_are_shown_with_422(client, login_as, factory) -> None:  # noqa: ANN001
    login_as(factory.staff())
    bad = dict(FORM, ends_at="2031-03-01T08:00", online_link="")
    response = client.post("/admin/events/new", data=bad)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The end must be after the start" in text
    assert "Online and hybrid events need the link" in text
    assert db.session.scalars(select(Event)).all() == []


def test_capacity_below_the_seats_taken_is_refused(client, login_as, factory) -> None:  # noqa: ANN001
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


def test_materials_upload_checks_the_content(client, login_as, factory) -> None:  # noqa: ANN001
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


def test_message_all_registrants_each_in_their_language(client, login_as, factory) -> None:  # noqa: ANN001
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


def test_exports_are_safe_against_formulas(client, login_as, factory) -> None:  # noqa: ANN001
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


def test_staff_cancel_a_registration_and_the_line_moves(client, login_as, factory) -> None:  # noqa: ANN001
    event = factories.event(capacity=1)
    holder = factories.registration(event, factories.alumnus(factory)[1])
    waiting = factories.registration(event, factories.alumnus(factory)[1], status="waitlisted",
                                     waitlist_position=1, registered_at=None)
    login_as(factory.staff())
    response = client.post(f"/admin/events/{event.id}/registrations/{holder.id}/cancel")
    assert response.status_code == 303
    assert reg(holder.id).status == RegStatus.CANCELLED
    assert reg(waiting.id).status == RegStatus.REGISTERED
