"""Calendar files (.ics) for an event, attached to confirmations and downloadable."""

from __future__ import annotations

from flask import current_app
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from portal.db import utcnow
from portal.events.models import Event, EventStatus
from portal.i18n import country_name


def ics_for(event: Event, *, url: str, online_link: str = "") -> bytes:
    """One VEVENT in UTC (every calendar converts to its owner's zone). `online_link` is
    only passed for people who may see it. SEQUENCE grows with each edit so calendars
    replace an older copy."""
    calendar = Calendar()
    calendar.add("prodid", "-//Medical Training Program//Portal//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    entry = CalendarEvent()
    host = current_app.config["BASE_URL"].split("://", 1)[-1].split("/", 1)[0] or "portal"
    entry.add("uid", f"event-{event.id}@{host}")
    entry.add("dtstamp", utcnow())
    entry.add("dtstart", event.starts_at)
    entry.add("dtend", event.ends_at)
    entry.add("summary", event.title)
    entry.add("sequence", int(event.updated_at.timestamp()) if event.updated_at else 0)
    place = ", ".join(p for p in (event.address, event.city, country_name(event.country)) if p)
    if place and event.has_venue:
        entry.add("location", place)
    elif online_link:
        entry.add("location", online_link)
    description = [event.description.strip()] if event.description else []
    if online_link:
        description.append(online_link)
    description.append(url)
    entry.add("description", "\n\n".join(description))
    entry.add("url", url)
    entry.add("status", "CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED")
    calendar.add_component(entry)
    return calendar.to_ical()
