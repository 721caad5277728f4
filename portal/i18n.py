"""Language and time zone of the viewer, and the filters that show times in them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user

from portal.config import LANGUAGES

LANG_COOKIE = "portal_lang"
TZ_COOKIE = "portal_tz"  # set by static/js/portal.js from the browser's own zone


# The zone of a person's institution, registered by the institutions area (a higher area:
# the foundation does not import it). Called with the institution's id.
_INSTITUTION_ZONE: list[Callable[[int], str | None]] = []


def register_institution_zone(lookup: Callable[[int], str | None]) -> None:
    _INSTITUTION_ZONE[:] = [lookup]


def program_timezone() -> str:
    """The program office's zone: deadlines are also shown in it."""
    return str(current_app.config["PROGRAM_TIMEZONE"])


def valid_timezone(name: str | None) -> bool:
    if not name or name not in _zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_ZONES: set[str] | None = None


def _zones() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones()
    return _ZONES


def timezone_choices() -> list[tuple[str, str]]:
    return [(z, z.replace("_", " ")) for z in sorted(_zones()) if "/" in z]


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return str(current_user.language)
    if not has_request_context():  # commands and jobs: mail sets its language itself
        return "en"
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def viewer_timezone() -> ZoneInfo:
    """Profile first, then the institution's zone, then the browser's, then the default."""
    if "viewer_tz" in g:
        return g.viewer_tz
    name: str | None = None
    if current_user and current_user.is_authenticated:
        name = current_user.timezone
        if not name and current_user.institution_id and _INSTITUTION_ZONE:
            name = _INSTITUTION_ZONE[0](current_user.institution_id)
    if not valid_timezone(name) and has_request_context():
        name = request.cookies.get(TZ_COOKIE)
    if name is None or not valid_timezone(name):
        name = str(current_app.config["DEFAULT_TIMEZONE"])
    zone = ZoneInfo(name)
    g.viewer_tz = zone
    return zone


def select_timezone() -> str:
    return str(viewer_timezone())


def local_dt(value: datetime | None, fmt: str = "medium", zone: str | None = None) -> str:
    """A UTC datetime in the viewer's zone (or `zone`), with the zone's abbreviation."""
    if value is None:
        return ""
    tz = ZoneInfo(zone) if zone else viewer_timezone()
    text = babel_format_datetime(value, fmt, tzinfo=tz, locale=get_locale() or "en")
    if fmt in ("short", "medium"):  # long and full formats name the zone themselves
        text = f"{text} {value.astimezone(tz):%Z}"
    return text


def tokyo_dt(value: datetime | None, fmt: str = "medium") -> str:
    return local_dt(value, fmt, program_timezone())


def country_name(code: str | None) -> str:
    if not code:
        return ""
    locale = get_locale() or Locale("en")
    return locale.territories.get(code.upper(), code)


def country_choices() -> list[tuple[str, str]]:
    locale = get_locale() or Locale("en")
    names = {
        code: name for code, name in locale.territories.items()
        if len(code) == 2 and code.isalpha() and code not in {"ZZ", "EU", "EZ", "UN", "QO"}
    }
    return sorted(names.items(), key=lambda kv: kv[1])


def iso_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_dt"] = local_dt
    app.jinja_env.filters["tokyo_dt"] = tokyo_dt
    app.jinja_env.filters["country_name"] = country_name

    @app.context_processor
    def _i18n_context() -> dict[str, Any]:
        return {"LANGUAGES": LANGUAGES, "current_locale": str(get_locale() or "en"),
                "viewer_tz": lambda: str(viewer_timezone())}
