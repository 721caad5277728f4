"""The events area's refusals, each one of the portal's errors with its status.

    422 refused    closed, not eligible, not cancellable, not on the list, not admitted
    409 conflict   already registered, already cancelled, already checked in, already
                   answered, fewer seats than are taken
    410 gone       a guest's confirmation link that was used or has expired
    413 too large  a material over the size limit

A leaf of the area: the services raise these, the routes catch them only where a page
must show something specific (the check-in result, the staff form, the link page).
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l

from portal.errors import Conflict, Refused
from portal.events.models import Registration


class RegistrationError(Refused):
    """A rule about registering, cancelling or the door refused the action."""

    default_message: ClassVar[Any] = _l("This is not possible right now.")


class Closed(RegistrationError):
    default_message = _l("Registration for this event is not open.")


class NotEligible(RegistrationError):
    default_message = _l("This event is not open to you.")


class AlreadyRegistered(Conflict, RegistrationError):
    default_message = _l("You are already registered for this event.")


class NotCancellable(RegistrationError):
    default_message = _l("This registration cannot be cancelled any more.")


class AlreadyCancelled(Conflict, RegistrationError):
    """A second click on "cancel": answered as done."""

    default_message = _l("This registration is already cancelled.")

    def __init__(self, message: object = None) -> None:
        super().__init__(message, code="already_done")


class LinkInvalid(RegistrationError):
    status = 410
    default_message = _l("This link is not valid any more.")


class NotOnList(RegistrationError):
    default_message = _l("No registration for this event has this code.")


class AlreadyCheckedIn(Conflict, RegistrationError):
    """Checking in twice: carries the registration so the page can say who and when."""

    default_message = _l("Already checked in.")

    def __init__(self, registration: Registration) -> None:
        super().__init__(code="already_checked_in")
        self.registration = registration


class EventError(Refused):
    """Staff editing of an event refused."""


class CapacityBelowTaken(Conflict, EventError):
    def __init__(self, taken: int) -> None:
        super().__init__(_l("%(n)d seats are taken: the capacity cannot be lower.", n=taken),
                         code="capacity")
        self.taken = taken


class MaterialRejected(EventError):
    """An upload refused by the file checks (413 when it is too large)."""


class NotAvailable(Refused):
    """No certificate: the person did not attend, or the event has not ended."""

    default_message = _l("There is no certificate for this registration.")


class AlreadyAnswered(Conflict):
    default_message = _l("You have already answered this survey.")

    def __init__(self, message: object = None) -> None:
        super().__init__(message, code="already_done")
