"""Certificates after the event (names in Japanese, Thai, Vietnamese), the public check,
and the feedback survey."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from sqlalchemy import select

from portal.db import utcnow
from portal.events import fonts
from portal.events.models import Feedback
from portal.extensions import db
from tests.events import factories

NAMES = [
    {"given_names": "Hanako", "family_name": "Yamada", "native_name": "山田 花子"},
    {"given_names": "Somchai", "family_name": "Prasert", "native_name": "สมชาย ประเสริฐ"},
    {"given_names": "Thị Lan", "family_name": "Nguyễn", "native_name": ""},
]


def drawn_characters(pdf: bytes) -> set[str]:
    """Characters the PDF's embedded fonts actually draw: each has a code in a font's
    ToUnicode map whose glyph (through CIDToGIDMap) has an outline in the embedded file."""
    drawn: set[str] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            cid_font = font["/DescendantFonts"][0].get_object()
            to_gid = cid_font["/CIDToGIDMap"].get_object().get_data()
            embedded = TTFont(io.BytesIO(
                cid_font["/FontDescriptor"].get_object()["/FontFile2"].get_object().get_data()))
            order = embedded.getGlyphOrder()
            for code, text in re.findall(r"<([0-9A-F]{4})> <([0-9A-F]+)>", cmap):
                gid = int.from_bytes(to_gid[int(code, 16) * 2:int(code, 16) * 2 + 2], "big")
                if 0 < gid < len(order) and embedded["glyf"][order[gid]].numberOfContours:
                    drawn.update(bytes.fromhex(text).decode("utf-16-be"))
    return drawn


def _attended(factory, **names):
    user, record = factories.alumnus(factory, **names)
    event = factories.past_event(title="Hemodialysis update", cpd_hours=3.5)
    reg = factories.registration(event, record, checked_in_at=event.starts_at)
    return user, event, reg


@pytest.mark.parametrize("names", NAMES, ids=["japanese", "thai", "vietnamese"])
def test_certificate_names_render_in_their_script(client, login_as, factory, names) -> None:
    user, event, _ = _attended(factory, **names)
    login_as(user)
    prepared = client.post(f"/events/{event.id}/certificate")
    assert prepared.status_code == 303
    pdf = client.get(prepared.headers["Location"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"

    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    shown = names["native_name"] or f"{names['given_names']} {names['family_name']}"
    assert shown in text
    assert "Hemodialysis update" in text and "3.5 hours" in text
    assert set(shown.replace(" ", "")) <= drawn_characters(pdf.data)


def test_anyone_can_check_a_certificate_and_sees_only_what_is_printed(
        client, login_as, factory) -> None:
    user, event, _ = _attended(factory, **NAMES[1], email="somchai.private@example.org",
                               institution_now="Siriraj Hospital")
    login_as(user)
    client.post(f"/events/{event.id}/certificate")
    pdf = client.get(f"/events/{event.id}/certificate.pdf").data
    url = re.search(r"http://portal\.test(/certificates/[0-9a-f]+)",
                    PdfReader(io.BytesIO(pdf)).pages[0].extract_text()).group(1)

    client.post("/logout")
    page = client.get(url)
    text = page.get_data(as_text=True)
    # The certificate names the day as it was at the venue, not in UTC.
    venue_date = event.starts_at.astimezone(ZoneInfo(event.venue_timezone)).date()
    assert page.status_code == 200
    for shown in ("Genuine certificate", "Somchai Prasert", "สมชาย ประเสริฐ",
                  "Hemodialysis update", "3.5", venue_date.isoformat()):
        assert shown in text
    for hidden in ("somchai.private@example.org", "Siriraj", "Bangkok"):
        assert hidden not in text
    assert client.get("/certificates/" + "0" * 32).status_code == 404


def test_no_certificate_before_the_end_or_without_attendance(client, login_as, factory) -> None:
    user, record = factories.alumnus(factory)
    running = factories.event(starts_at=utcnow() - timedelta(hours=1),
                              ends_at=utcnow() + timedelta(hours=1))
    factories.registration(running, record, checked_in_at=utcnow())
    missed = factories.past_event()
    factories.registration(missed, record)
    login_as(user)
    for event in (running, missed):
        assert client.post(f"/events/{event.id}/certificate").status_code == 404
        assert client.get(f"/events/{event.id}/certificate.pdf").status_code == 404


def test_missing_fonts_give_a_clear_message(tmp_path) -> None:
    with pytest.raises(fonts.FontsMissing) as caught:
        fonts.certificate_fonts((tmp_path,))
    message = str(caught.value)
    assert "DejaVuSans.ttf" in message and "fonts-noto-cjk" in message
    assert "make fonts" in message


def test_feedback_once_per_attendee_and_staff_see_results(client, login_as, factory) -> None:
    user, event, reg = _attended(factory)
    other_user, other = factories.alumnus(factory)
    factories.registration(event, other, checked_in_at=event.starts_at)
    login_as(user)
    form = client.get(f"/events/{event.id}/feedback").get_data(as_text=True)
    assert 'name="rating"' in form
    sent = client.post(f"/events/{event.id}/feedback",
                       data={"rating": "4", "comment": "Great cases"})
    assert sent.status_code == 303
    again = client.post(f"/events/{event.id}/feedback", data={"rating": "1"})
    assert again.status_code == 303
    login_as(other_user)
    client.post(f"/events/{event.id}/feedback", data={"rating": "5", "comment": ""})

    login_as(factory.staff())
    page = client.get(f"/admin/events/{event.id}").get_data(as_text=True)
    assert "Average 4.5 from 2 answers" in page
    assert "Great cases" in page


def test_feedback_needs_attendance(client, login_as, factory) -> None:
    user, record = factories.alumnus(factory)
    event = factories.past_event()
    factories.registration(event, record)  # registered, never came
    login_as(user)
    assert client.get(f"/events/{event.id}/feedback").status_code == 404
    assert client.post(f"/events/{event.id}/feedback", data={"rating": "5"}).status_code == 404
    assert db.session.scalars(select(Feedback)).all() == []
