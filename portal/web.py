"""Small helpers every area's routes share, and the one answer to the portal's errors."""

from __future__ import annotations

import builtins
from typing import Any
from urllib.parse import urlsplit

from flask import flash, g, jsonify, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from htmx_flask import request
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from portal.errors import PortalError
from portal.listing import MAX_ID
from portal.security import is_safe_next


class IdConverter(IntegerConverter):
    """The portal's `<int:...>`: a whole number from 0 to 2^31-1, what both databases
    store in an INTEGER column. Anything else in the path (a huge or a negative number)
    matches no route, so the answer is 404 before any query runs."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = None, signed: bool = False) -> None:  # noqa: A002
        high = MAX_ID if max is None else builtins.min(max, MAX_ID)
        super().__init__(map, fixed_digits=fixed_digits, min=0 if min is None else min,
                         max=high, signed=signed)


def is_htmx() -> bool:
    """An htmx request that wants a fragment (history restores want the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def wants_json() -> bool:
    """Our own scripts (resumable uploads) ask for JSON answers."""
    return not is_htmx() and request.accept_mimetypes.best == "application/json"


def page_or_partial(page_template: str, partial_template: str, /, *, http_status: int = 200,
                    **context: Any) -> tuple[str, int]:
    """One URL, two renderings: the fragment for htmx, the page (which includes it) else."""
    template = partial_template if is_htmx() else page_template
    return render_template(template, **context), http_status


def back_to(url: str) -> None:
    """Where a plain form goes back to when a service refuses (default: the referring
    page of this portal, else the dashboard)."""
    g.portal_back = url


def _back_url() -> str:
    chosen = g.get("portal_back")
    if chosen:
        return str(chosen)
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.netloc == request.host:
        local = parts.path + (f"?{parts.query}" if parts.query else "")
        if is_safe_next(local):
            return local
    return url_for("main.dashboard")


def handle_portal_error(error: PortalError) -> ResponseReturnValue:
    """A service refused: the transaction is already rolled back (portal.transaction).

    htmx: the message goes into the page's flash area with the error's status (base.html
    lets htmx swap 409, 413 and 422 answers). Scripts asking for JSON: {"error": ...}.
    A plain form post: flash and 303 back to where the form was. A plain GET: a page
    saying why, with the status.
    """
    message = str(error.message)
    category = "info" if error.code == "already_done" else "error"
    if wants_json():
        return jsonify(error=message, code=error.code), error.status
    if is_htmx():
        html = render_template("_flashes.html", messages=[(category, message)])
        return html, error.status, {"HX-Retarget": "#flashes", "HX-Reswap": "innerHTML"}
    if request.method in ("GET", "HEAD"):
        return render_template("errors/refused.html", message=message), error.status
    flash(message, category)
    return redirect(_back_url(), 303)


def see_other(endpoint: str, /, **values: Any) -> Response:
    """The answer to a successful form post: 303 to a page (POST -> redirect -> GET)."""
    return redirect(url_for(endpoint, **values), 303)
