"""Links to a registration's pages, for the two kinds of people who have them.

An alumnus reaches an event through their account (`/events/<id>/...`); a guest through
their personal link (`/events/guest/<registration>/<key>/...`), which works without an
account. Each page one may act on has an endpoint on both sides (the same view serves
them, see routes.py); a few exist on one side only (the pass page, the feedback page and
the live seat count for alumni). A leaf: no queries, no services.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from portal.events.codes import guest_key
from portal.events.models import Registration
from portal.web import external_url

# action -> endpoint, for each side. None: this side has no such page.
ALUMNUS_ENDPOINTS: dict[str, str] = {
    "page": "events.show",
    "cancel": "events.cancel",
    "calendar": "events.calendar",
    "material": "events.material",
    "prepare_certificate": "events.prepare_certificate",
    "certificate": "events.certificate",
    "feedback": "events.feedback",
    "pass": "events.pass_page",
    "register": "events.register",
    "seats": "events.seats",
}
GUEST_ENDPOINTS: dict[str, str] = {
    "page": "events.guest_page",
    "cancel": "events.guest_cancel",
    "calendar": "events.guest_calendar",
    "material": "events.guest_material",
    "prepare_certificate": "events.guest_prepare_certificate",
    "certificate": "events.guest_certificate",
    "feedback": "events.guest_feedback",
    "register": "events.guest_register",
}


def alumnus_url(action: str, event_id: int, **values: Any) -> str | None:
    endpoint = ALUMNUS_ENDPOINTS.get(action)
    return url_for(endpoint, event_id=event_id, **values) if endpoint else None


def guest_url(action: str, registration: Registration, key: str, **values: Any) -> str | None:
    endpoint = GUEST_ENDPOINTS.get(action)
    if endpoint is None:
        return None
    if action == "register":  # the guest form of the event, for a new request
        return url_for(endpoint, event_id=registration.event_id, **values)
    return url_for(endpoint, registration_id=registration.id, key=key, **values)


def personal_link(registration: Registration) -> str:
    """For mail: the page of this registration (the guest's own page, or the event page
    of the alumnus's account), on the public address."""
    if registration.alumnus_id is None and registration.guest_salt:
        return external_url("events.guest_page", registration_id=registration.id,
                            key=guest_key(registration))
    return external_url("events.show", event_id=registration.event_id)
