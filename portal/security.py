"""Response headers, idle timeout and safe redirects: the baseline every page gets."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

V = TypeVar("V", bound=Callable[..., object])


class OwnLink(str):
    """A link the portal made itself (portal.web.external_url). Only these become links in
    the HTML of a mail; a line someone typed stays text, whatever it looks like."""

    __slots__ = ()


def background(view: V) -> V:
    """Mark a view that pages poll by themselves (htmx `every ...`): its htmx requests are
    not activity, so a page left open does not keep its session alive forever. (Opened
    as a page, the same view is activity like any other.)"""
    view.background = True  # type: ignore[attr-defined]  # read by _idle_timeout
    return view


def _is_background() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "background", False)) and bool(request.headers.get("HX-Request"))


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; media-src 'self' blob:; object-src 'none'; "
    "frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
)


def is_safe_next(target: str | None) -> bool:
    """Only local paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default: str = "main.dashboard") -> str:
    if target is not None and is_safe_next(target):
        return target
    return url_for(default)


def _set_headers(response: Response) -> Response:
    headers = response.headers
    # Views that serve inline previews set their own stricter policy (sandbox).
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
    if current_app.config.get("PRODUCTION"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint != "static":
        # Pages with personal data must not stay in shared caches or the back button, and
        # one-time links (a guest's page, a consent) show it without a session: no page is
        # stored anywhere. Static files keep their own caching.
        headers.setdefault("Cache-Control", "no-store")
    headers.add("Vary", "HX-Request")
    return response


def _idle_timeout() -> BaseResponse | None:
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = int(time.time())
    limit = current_app.config["IDLE_TIMEOUT_MINUTES"] * 60
    last = session.get("seen")
    started = session.get("started")
    idle = last is not None and now - int(last) > limit
    # The cookie is re-signed at every request, so its own age never reaches the limit.
    too_old = started is not None and now - int(started) > current_app.config[
        "SESSION_HOURS"] * 3600
    if idle or too_old:
        logout_user()
        session.clear()
        flash(gettext("You were signed out after a period of inactivity.") if idle
              else gettext("Please sign in again."), "info")
        if request.headers.get("HX-Request"):
            # htmx would swap the sign-in page into a fragment: send the browser there.
            page = request.headers.get("HX-Current-URL") or request.full_path
            parts = urlsplit(page)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            login = url_for("auth.login", next=target if is_safe_next(target) else None)
            return Response(status=204, headers={"HX-Redirect": login})
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if not _is_background():
        session["seen"] = now
    return None


def init_app(app: Flask) -> None:
    app.after_request(_set_headers)
    app.before_request(_idle_timeout)
