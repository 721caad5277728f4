"""Small helpers every area's routes share, and the one answer to the portal's errors."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, flash, g, jsonify, redirect, render_template, url_for
from flask.globals import request_ctx
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from htmx_flask import request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from portal.errors import PortalError
from portal.listing import MAX_ID
from portal.security import OwnLink, is_safe_next


class IdConverter(IntegerConverter):
    """The portal's `<int:...>`: a whole number from 0 to 2^31-1, what both databases
    store in an INTEGER column. Anything else in the path (a huge or a negative number)
    matches no route, so the answer is 404 before any query runs."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = None, signed: bool = False) -> None:  # noqa: A002
        high = MAX_ID if max is None else builtins.min(max, MAX_ID)
        super().__init__(map, fixed_digits=fixed_digits, min=0 if min is None else min,
                         max=high, signed=signed)


# --- request bodies -----------------------------------------------------------------------

# What surrounds an uploaded file in a form post: the other fields, the CSRF token and the
# multipart framing. An upload view's limit is its file limit plus this.
FORM_OVERHEAD = 64 * 1024

BodyLimit = int | Callable[[], int]
V = TypeVar("V", bound=Callable[..., ResponseReturnValue])


def body_limit(limit: BodyLimit) -> Callable[[V], V]:
    """Give one view a body limit of its own (bytes, or a function called before the
    body is read, e.g. of a setting): upload views raise the small default of every
    request (REQUEST_MAX_KB). Put it under the route decorator, above or below the role
    decorators."""

    def decorator(view: V) -> V:
        view.body_limit = limit  # type: ignore[attr-defined]  # read by enforce_body_limit
        return view

    return decorator


def request_body_limit() -> int:
    """The body limit of the current request: one an area set for it before the hooks
    ran (`g.body_limit`, e.g. the nominations' per-document limit), its view's, else the
    default."""
    if "body_limit" in g:
        return int(g.body_limit)
    view = current_app.view_functions.get(request.endpoint or "")
    limit: BodyLimit | None = getattr(view, "body_limit", None)
    if limit is None:
        return int(current_app.config["REQUEST_MAX_KB"]) * 1024
    return limit() if callable(limit) else limit


def enforce_body_limit() -> None:
    """before_request, ahead of everything that reads the body (CSRF, forms): a body over
    the limit is refused with 413 from its Content-Length, before a byte is read; a body
    without one (chunked) is cut off at the limit while it is read (werkzeug)."""
    limit = request_body_limit()
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{max(n // 1024, 1)} KB"


def handle_too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """413 for a body over its limit, said the way the request needs it (a fragment into
    #flashes for htmx, JSON for scripts, a page otherwise)."""
    if request_ctx.url_adapter is None:  # refused before routing: no page can be built
        return error.get_response()
    message = gettext("What you sent is too large: at most %(size)s can be sent here. "
                      "Please send a smaller file or less text.",
                      size=_size(request_body_limit()))
    if wants_json():
        return jsonify(error=message, code="too_large"), 413
    if is_htmx():
        html = render_template("_flashes.html", messages=[("error", message)])
        return html, 413, {"HX-Retarget": "#flashes", "HX-Reswap": "innerHTML"}
    return render_template("errors/413.html", message=message), 413


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


def external_url(endpoint: str, /, **values: Any) -> OwnLink:
    """An absolute link (mails, calendar files, certificates, public links shown to staff)
    on the configured public address, PORTAL_BASE_URL: never built from the Host header
    of the request, which a visitor chooses."""
    return absolute(url_for(endpoint, **values))


def absolute(path: str) -> OwnLink:
    """A path of this portal (from url_for) as an absolute link on PORTAL_BASE_URL."""
    return OwnLink(str(current_app.config["BASE_URL"]).rstrip("/") + path)


def see_other(endpoint: str, /, **values: Any) -> Response:
    """The answer to a successful form post: 303 to a page (POST -> redirect -> GET)."""
    return redirect(url_for(endpoint, **values), 303)
