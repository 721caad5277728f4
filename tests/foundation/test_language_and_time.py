"""Language switch (cookie for visitors, the profile for people signed in) and the time
zone times are shown in: the profile's, else the institution's, else the browser's."""

from __future__ import annotations

import re

from portal.accounts.models import User
from tests.conftest import login
from tests.foundation.helpers import fresh


def _lang(response) -> str:  # noqa: ANN001
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def _zone(client) -> str:  # noqa: ANN001
    """The zone the footer says times are shown in (whatever the page's language)."""
    html = client.get("/dashboard").get_data(as_text=True)
    footer = re.search(r'<footer class="container site-footer">(.*?)</footer>', html, re.S)
    return re.search(r"[A-Z][a-z]+/[A-Za-z_]+", footer.group(1)).group(0)


def test_visitor_switches_language_with_a_cookie(client) -> None:  # noqa: ANN001
    assert _lang(client.get("/login")) == "en"
    response = client.post("/language", data={"lang": "ja", "next": "/login"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    cookie = client.get_cookie("portal_lang")
    assert cookie.value == "ja" and cookie.http_only
    assert _lang(client.get("/login")) == "ja"
    client.post("/language", data={"lang": "xx"})  # unknown: nothing changes
    assert _lang(client.get("/login")) == "ja"


def test_browser_language_is_the_first_guess(client) -> None:  # noqa: ANN001
    assert _lang(client.get("/login", headers={"Accept-Language": "ja,en;q=0.5"})) == "ja"


def test_signed_in_switch_is_kept_on_the_profile(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer(language="en")
    client = app_ctx.test_client()
    login(client, user)
    client.post("/language", data={"lang": "ja"})
    assert fresh(User, user.id).language == "ja"
    # On another device, without the cookie, the profile decides.
    other = app_ctx.test_client()
    login(other, user)
    assert _lang(other.get("/dashboard")) == "ja"


def test_profile_language_and_zone_are_saved(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer()
    client = app_ctx.test_client()
    login(client, user)
    response = client.post("/account", data={"name": "Renamed", "language": "ja",
                                             "timezone": "America/Sao_Paulo"})
    assert response.status_code == 303
    saved = fresh(User, user.id)
    assert (saved.name, saved.language, saved.timezone) == ("Renamed", "ja", "America/Sao_Paulo")
    assert _zone(client) == "America/Sao_Paulo"
    bad = client.post("/account", data={"name": "Renamed", "language": "en",
                                        "timezone": "Mars/Olympus"})
    assert bad.status_code == 422


def test_time_zone_profile_then_institution_then_browser(app_ctx, factory) -> None:  # noqa: ANN001
    institution = factory.institution(timezone="Asia/Kuala_Lumpur")
    with_profile = factory.nominator(institution, timezone="Asia/Bangkok")
    from_institution = factory.nominator(institution, timezone=None)
    from_browser = factory.reviewer(timezone=None)
    nothing_known = factory.reviewer(timezone=None)

    def zone_of(user, browser: str | None = None) -> str:  # noqa: ANN001
        client = app_ctx.test_client()
        if browser:
            client.set_cookie("portal_tz", browser)
        login(client, user)
        return _zone(client)

    assert zone_of(with_profile, "Europe/Berlin") == "Asia/Bangkok"
    assert zone_of(from_institution, "Europe/Berlin") == "Asia/Kuala_Lumpur"
    assert zone_of(from_browser, "Europe/Berlin") == "Europe/Berlin"
    assert zone_of(nothing_known, "Not/A_Zone") == "Asia/Tokyo"
