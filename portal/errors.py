"""The portal's own errors: one family, each carrying a message for the user and a status.

Services raise these and never return error codes; `portal.web.handle_portal_error` turns
them into an answer (a flash and a 303 back for plain forms, the right fragment and the
status for htmx, JSON for scripts). Messages are usually lazy strings, translated when they
are shown, since services also run outside requests (CLI, jobs).

    refused (422)   a rule says no: incomplete, outside the window, not eligible
    conflict (409)  the state moved under the user: already submitted, full, changed
    too large (413) a body or a file over its limit
    not yours (404) an object the user may not know exists

This module is a leaf: it imports nothing of the portal, so every area can use it.
"""

from __future__ import annotations

from typing import Any, ClassVar


class PortalError(Exception):
    """A refusal the user should read. `code` names the case for callers that branch on
    it (e.g. "already_done": a double click, answered as success)."""

    status: int = 422
    default_message: ClassVar[object] = "This is not possible right now."

    def __init__(self, message: object = None, *, code: str = "refused",
                 status: int | None = None, **context: Any) -> None:
        # A str or a lazy translated string; str() translates it when it is shown.
        self.message: object = message if message is not None else self.default_message
        super().__init__(self.message)
        self.code = code
        if status is not None:
            self.status = status
        # Extra facts a page may show beside the message (a list of reasons, a record).
        self.context: dict[str, Any] = context

    def __str__(self) -> str:
        return str(self.message)


class Refused(PortalError):
    status = 422


class Conflict(PortalError):
    status = 409


class TooLarge(PortalError):
    status = 413


class NotYours(PortalError):
    status = 404
