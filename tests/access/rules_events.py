"""Access rules of the events area (portal/events): every route, who may use it.

The "own" side is `alumnus`: registered for an open event and an attendee of a past one.
Both events are for alumni in Laos only, which neither viewer is (whatever profile edits
other rules make), so `alumnus` sees them through the registration and `other_alumnus`
gets a 404 for every page about them. Guest pages are capability URLs (an HMAC key in the
link): whoever holds the link may use it, like the e-mail it came in. Staff pages are
staff only.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from PIL import Image

from portal import tokens
from portal.db import utcnow
from portal.events import certificates
from portal.events.codes import GUEST_TOKEN, guest_key
from portal.events.models import EventMaterial, EventStatus, Feedback
from portal.extensions import db
from portal.storage import store_upload
from tests.access.rules import EVERYONE, STAFF, Rule
from tests.events import factories

ALUMNI = frozenset({"alumnus", "other_alumnus"})
OWN = frozenset({"alumnus"})


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, "PNG")
    return out.getvalue()


def build(world: Any, factory: Any) -> None:
    mine = factories.record_for(world.alumnus, country="TH", specialty="cardiology")
    factories.record_for(world.other_alumnus, country="VN", specialty="radiology")
    w = world
    w.ev_open = factories.event(title="Open to alumni in Laos", eligible_countries=["LA"],
                                guests_allowed=True, mode="hybrid",
                                online_link="https://meet.example.org/secret-room")
    w.ev_reg = factories.registration(w.ev_open, mine)
    w.ev_guest = factories.registration(w.ev_open)
    w.ev_guest_key = guest_key(w.ev_guest)
    blob = store_upload(io.BytesIO(_png()), original_name="slides.png",
                        allowed={"png"}, max_bytes=10**6, user_id=w.staff.id)
    w.ev_material = EventMaterial(event_id=w.ev_open.id, blob_id=blob.id, title="Slides")
    w.ev_material_to_remove = EventMaterial(event_id=w.ev_open.id, blob_id=blob.id,
                                            title="Old slides")
    db.session.add_all([w.ev_material, w.ev_material_to_remove])
    pending = factories.registration(w.ev_open, status="pending", guest_salt=None,
                                     registered_at=None)
    w.ev_confirm_token = tokens.issue(GUEST_TOKEN, lifetime=timedelta(hours=2),
                                      payload={"registration_id": pending.id})
    w.ev_to_checkin = factories.registration(w.ev_open, factories.record_for(
        factory.alumnus(), country="TH"))
    w.ev_to_cancel_by_staff = factories.registration(w.ev_open)

    w.ev_past = factories.past_event(title="Past lecture", eligible_countries=["LA"],
                                     guests_allowed=True)
    checked = {"checked_in_at": utcnow() - timedelta(days=3), "checked_in_by_id": w.staff.id}
    w.ev_past_reg = factories.registration(w.ev_past, mine, **checked)
    w.ev_past_guest = factories.registration(w.ev_past, **checked)
    w.ev_past_guest_key = guest_key(w.ev_past_guest)
    db.session.flush()
    for reg in (w.ev_past_reg, w.ev_past_guest):
        db.session.refresh(reg)
        if reg.alumnus_id:
            reg.alumnus = mine
        w.ev_certificate = certificates.issue(reg, w.ev_past)
    db.session.add(Feedback(registration_id=w.ev_past_guest.id, event_id=w.ev_past.id,
                            rating=4))
    w.ev_draft = factories.event(title="Draft", status=EventStatus.DRAFT)
    w.ev_to_cancel = factories.event(title="To cancel")
    w.ev_to_edit = factories.event(title="To edit")
    db.session.commit()


def _event_form(w: Any) -> dict:
    return {"kind": "seminar", "title": "Edited by staff", "mode": "in_person", "country": "TH",
            "city": "Bangkok", "venue_timezone": "Asia/Bangkok",
            "starts_at": "2031-03-01T09:00", "ends_at": "2031-03-01T12:00", "capacity": "30"}


def _open(w: Any) -> str:
    return f"/events/{w.ev_open.id}"


def _guest(w: Any) -> str:
    return f"/events/guest/{w.ev_guest.id}/{w.ev_guest_key}"


def _past_guest(w: Any) -> str:
    return f"/events/guest/{w.ev_past_guest.id}/{w.ev_past_guest_key}"


def _staff(w: Any) -> str:
    return f"/admin/events/{w.ev_open.id}"


RULES: list[Rule] = [
    # Alumni side.
    Rule("events.index", lambda w: "/events", ALUMNI),
    Rule("events.show", _open, OWN, note="other_alumnus is neither eligible nor registered"),
    Rule("events.seats", lambda w: f"{_open(w)}/seats", OWN),
    Rule("events.register", lambda w: f"{_open(w)}/register", OWN, method="POST", ok=(303,),
         note="already registered (and not eligible): says so and redirects"),
    Rule("events.pass_page", lambda w: f"{_open(w)}/pass", OWN),
    Rule("events.calendar", lambda w: f"{_open(w)}/calendar.ics", OWN),
    Rule("events.material", lambda w: f"{_open(w)}/materials/{w.ev_material.id}", OWN),
    Rule("events.prepare_certificate", lambda w: f"/events/{w.ev_past.id}/certificate", OWN,
         method="POST", ok=(303,)),
    Rule("events.certificate", lambda w: f"/events/{w.ev_past.id}/certificate.pdf", OWN),
    Rule("events.feedback", lambda w: f"/events/{w.ev_past.id}/feedback", OWN),
    Rule("events.feedback", lambda w: f"/events/{w.ev_past.id}/feedback", OWN, method="POST",
         data=lambda w: {"rating": "4", "comment": "Useful"}, ok=(303,)),
    Rule("events.cancel", lambda w: f"{_open(w)}/cancel", OWN, method="POST", ok=(303,),
         mutates=True),
    # Guests and the public.
    Rule("events.guest_register", lambda w: f"{_open(w)}/guest", EVERYONE),
    Rule("events.guest_register", lambda w: f"{_open(w)}/guest", EVERYONE, method="POST",
         data=lambda w: {"name": "A Guest", "email": "a.guest@example.org",
                         "institution": "Clinic"},
         note="always the same answer: check your e-mail"),
    Rule("events.guest_confirm", lambda w: f"/events/guest/confirm/{w.ev_confirm_token}",
         EVERYONE, note="capability link from the e-mail"),
    Rule("events.guest_confirm", lambda w: f"/events/guest/confirm/{w.ev_confirm_token}",
         EVERYONE, method="POST", ok=(303, 410), mutates=True,
         note="the first use confirms (303); the link is then used up (410)"),
    Rule("events.guest_page", _guest, EVERYONE, note="capability link"),
    Rule("events.guest_calendar", lambda w: f"{_guest(w)}/calendar.ics", EVERYONE),
    Rule("events.guest_material", lambda w: f"{_guest(w)}/materials/{w.ev_material.id}",
         EVERYONE),
    Rule("events.guest_prepare_certificate", lambda w: f"{_past_guest(w)}/certificate",
         EVERYONE, method="POST", ok=(303,)),
    Rule("events.guest_certificate", lambda w: f"{_past_guest(w)}/certificate.pdf", EVERYONE),
    Rule("events.guest_feedback", lambda w: f"{_past_guest(w)}/feedback", EVERYONE,
         method="POST", data=lambda w: {"rating": "5"}, ok=(303,)),
    Rule("events.guest_cancel", lambda w: f"{_guest(w)}/cancel", EVERYONE, method="POST",
         ok=(303,), mutates=True),
    Rule("events.verify_certificate", lambda w: f"/certificates/{w.ev_certificate.code}",
         EVERYONE),
    # Staff.
    Rule("events.staff_index", lambda w: "/admin/events", STAFF),
    Rule("events.staff_new", lambda w: "/admin/events/new", STAFF),
    Rule("events.staff_new", lambda w: "/admin/events/new", STAFF, method="POST",
         data=_event_form, ok=(303,)),
    Rule("events.staff_show", _staff, STAFF),
    Rule("events.staff_edit", lambda w: f"/admin/events/{w.ev_to_edit.id}/edit", STAFF),
    Rule("events.staff_edit", lambda w: f"/admin/events/{w.ev_to_edit.id}/edit", STAFF,
         method="POST", data=_event_form, ok=(303,), mutates=True),
    Rule("events.staff_publish", lambda w: f"/admin/events/{w.ev_draft.id}/publish", STAFF,
         method="POST", ok=(303,), mutates=True),
    Rule("events.staff_cancel_event", lambda w: f"/admin/events/{w.ev_to_cancel.id}/cancel",
         STAFF, method="POST", ok=(303,), mutates=True),
    Rule("events.staff_cancel_registration",
         lambda w: f"{_staff(w)}/registrations/{w.ev_to_cancel_by_staff.id}/cancel", STAFF,
         method="POST", ok=(303,), mutates=True),
    Rule("events.staff_add_material", lambda w: f"{_staff(w)}/materials", STAFF,
         method="POST", data=lambda w: {"title": "Handout",
                                        "file": (io.BytesIO(_png()), "handout.png")},
         ok=(303,), mutates=True),
    Rule("events.staff_material", lambda w: f"{_staff(w)}/materials/{w.ev_material.id}",
         STAFF),
    Rule("events.staff_remove_material",
         lambda w: f"{_staff(w)}/materials/{w.ev_material_to_remove.id}/delete", STAFF,
         method="POST", ok=(303,), mutates=True),
    Rule("events.staff_message", lambda w: f"{_staff(w)}/message", STAFF, method="POST",
         data=lambda w: {"subject": "Parking", "body": "Use gate 3."}, ok=(303,)),
    Rule("events.staff_export", lambda w: f"{_staff(w)}/registrations.csv", STAFF),
    Rule("events.staff_export", lambda w: f"{_staff(w)}/registrations.xlsx", STAFF),
    Rule("events.checkin", lambda w: f"{_staff(w)}/check-in", STAFF),
    Rule("events.checkin_code", lambda w: f"{_staff(w)}/check-in", STAFF, method="POST",
         data=lambda w: {"code": w.ev_to_checkin.pass_code}, ok=(303,), mutates=True),
    Rule("events.walk_in", lambda w: f"{_staff(w)}/walk-in", STAFF, method="POST",
         data=lambda w: {"name": "Walk In", "email": "walk.in@example.org"}, ok=(303,),
         mutates=True),
]
