"""Words shown for the events' codes (kinds, modes, states), in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.events.models import EventKind, EventMode, EventStatus, RegStatus

KIND_LABELS: dict[str, object] = {
    EventKind.LECTURE: _l("Lecture"),
    EventKind.DEMONSTRATION: _l("Demonstration"),
    EventKind.SEMINAR: _l("Seminar"),
    EventKind.EXPERT_DISPATCH: _l("Expert visit"),
}

MODE_LABELS: dict[str, object] = {
    EventMode.IN_PERSON: _l("At the venue"),
    EventMode.ONLINE: _l("Online"),
    EventMode.HYBRID: _l("At the venue and online"),
}

EVENT_STATUS_LABELS: dict[str, object] = {
    EventStatus.DRAFT: _l("draft"),
    EventStatus.PUBLISHED: _l("published"),
    EventStatus.CANCELLED: _l("cancelled"),
}

STATUS_LABELS: dict[str, object] = {
    RegStatus.PENDING: _l("waiting for e-mail confirmation"),
    RegStatus.REGISTERED: _l("registered"),
    RegStatus.WAITLISTED: _l("on the waitlist"),
    RegStatus.CANCELLED: _l("cancelled"),
    RegStatus.WALK_IN: _l("walk-in"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def mode_label(mode: str) -> str:
    return str(MODE_LABELS.get(mode, mode))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def event_status_label(status: str) -> str:
    return str(EVENT_STATUS_LABELS.get(status, status))


def hours(value: float | None) -> str:
    """CPD hours without a trailing .0 (1.5, 2)."""
    if value is None:
        return ""
    return f"{value:g}"
