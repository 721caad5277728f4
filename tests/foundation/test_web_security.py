"""CSRF on every POST (forms and htmx), the content security policy, security headers,
and 404 for objects that do not exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.events.codes import guest_key
from portal.extensions import db
from tests.access.world import all_rules, build_world
from tests.conftest import login
from tests.events import factories as event_factories

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _row_counts() -> dict[str, int]:
    db.session.expire_all()
    return {t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in db.metadata.sorted_tables}


def _post_urls(app, world) -> dict[str, str]:  # noqa: ANN001
    """A URL for every POST route: the access rules' real objects where there are any."""
    by_endpoint: dict[str, str] = {}
    for _module, rule in all_rules():
        if rule.method == "POST" or rule.endpoint not in by_endpoint:
            by_endpoint[rule.endpoint] = rule.url(world)
    urls = {}
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()):
            continue
        urls[rule.endpoint] = by_endpoint.get(rule.endpoint) or re.sub(
            r"<(?:int:)?[^>]+>", "1", rule.rule)
    return urls


def test_every_post_needs_the_csrf_token(app_ctx, factory, settings) -> None:  # noqa: ANN001
    world = build_world(factory)
    staff = app_ctx.test_client()
    login(staff, world.staff)  # signed in while the test app has CSRF off
    settings(WTF_CSRF_ENABLED=True)
    urls = _post_urls(app_ctx, world)
    assert "auth.login" in urls and "accounts.deactivate" in urls

    before = _row_counts()
    accepted = []
    for endpoint, url in sorted(urls.items()):
        for client in (staff, app_ctx.test_client()):
            response = client.post(url, data={"lang": "ja", "email": world.staff.email,
                                              "reason": "x", "roles": "staff"})
            if response.status_code != 400:
                accepted.append(f"{endpoint} {url}: {response.status_code}")
    assert not accepted, "POSTs accepted without a CSRF token:\n" + "\n".join(accepted)
    assert _row_counts() == before
    assert staff.get("/dashboard").status_code == 200  # still signed in: logout was refused too


def test_htmx_requests_send_the_token_in_a_header(app_ctx, factory, settings) -> None:  # noqa: ANN001
    settings(WTF_CSRF_ENABLED=True)
    client = app_ctx.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    form_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    refused = client.post("/language", data={"lang": "ja"}, headers={"HX-Request": "true"})
    assert refused.status_code == 400
    response = client.post("/language", data={"lang": "ja"},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 303
    user = factory.reviewer()
    response = client.post("/login", data={"email": user.email, "password": "test-pass-2026!",
                                           "csrf_token": form_token})
    assert response.status_code == 303
    # A token from before the sign-in is bound to the old session and no longer works.
    assert client.post("/language", data={"lang": "en"},
                       headers={"X-CSRFToken": token}).status_code == 400


def test_csp_forbids_inline_script_and_eval(client) -> None:  # noqa: ANN001
    for path in ("/", "/login", "/request-access", "/no-such-page"):
        csp = client.get(path).headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "object-src 'none'" in csp and "frame-ancestors" in csp


def test_templates_have_no_inline_script_or_style() -> None:
    """CSP blocks them, so they would silently not work. Mail templates are not pages."""
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if "email" in path.relative_to(TEMPLATES).parts:
            continue
        text = path.read_text()
        for pattern, what in [
            (r"<script(?![^>]*\ssrc=)[^>]*>", "inline <script>"),
            (r"<style[\s>]", "<style> element"),
            (r"\sstyle\s*=", "style= attribute"),
            (r"\son[a-z]+\s*=", "inline event handler"),
            (r"hx-on[:-]", "hx-on handler (needs eval)"),
            (r"javascript:", "javascript: URL"),
        ]:
            if re.search(pattern, text, re.I):
                problems.append(f"{path.relative_to(TEMPLATES)}: {what}")
    assert not problems, "\n".join(problems)


def test_security_headers(app_ctx, factory, settings) -> None:  # noqa: ANN001
    client = app_ctx.test_client()
    public = client.get("/login")
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    assert public.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert public.headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in public.headers["Vary"]
    assert "Strict-Transport-Security" not in public.headers  # plain HTTP in the embedded mode

    login(client, factory.reviewer())
    private = client.get("/dashboard")
    assert private.headers["Cache-Control"] == "no-store"

    settings(PRODUCTION=True)
    assert "max-age=" in client.get("/login").headers["Strict-Transport-Security"]


def test_unknown_objects_are_404(client, factory) -> None:  # noqa: ANN001
    login(client, factory.staff())
    for path in ("/admin/people/999999", "/admin/institutions/999999",
                 "/admin/outbox/999999"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "<h1>" in response.get_data(as_text=True)  # the portal's own page
    for path in ("/admin/people/999999/deactivate", "/admin/institutions/999999/approve",
                 "/admin/outbox/999999/release"):
        assert client.post(path).status_code == 404, path


def test_only_trusted_host_names_are_served(app_ctx, settings) -> None:  # noqa: ANN001
    settings(TRUSTED_HOSTS=["portal.example.org"])
    client = app_ctx.test_client()
    assert client.get("/login", headers={"Host": "portal.example.org"}).status_code == 200
    assert client.get("/login", headers={"Host": "evil.example.com"}).status_code == 400


def test_production_needs_a_secret_key_and_secure_cookies(tmp_path) -> None:
    from portal import config, create_app

    with pytest.raises(RuntimeError, match="PORTAL_SECRET_KEY"):
        create_app({"PRODUCTION": True, "SECRET_KEY": None,
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    flask_settings = config.flask_config(config.load({"PRODUCTION": True}))
    assert flask_settings["SESSION_COOKIE_SECURE"] is True
    assert flask_settings["SESSION_COOKIE_HTTPONLY"] is True


def test_no_page_is_kept_in_caches_but_static_files_are(client) -> None:  # noqa: ANN001
    """Issue 12, point 17: pages reached through one-time links carry personal data
    without a session (a guest's page, a confirmation link): no-store for every answer
    but static files."""
    event = event_factories.event(guests_allowed=True)
    guest = event_factories.registration(event, guest_name="Dr. Cached Guest")
    page = client.get(f"/events/guest/{guest.id}/{guest_key(guest)}")
    assert page.status_code == 200 and "Dr. Cached Guest" in page.get_data(as_text=True)
    for response in (page, client.get("/login"), client.get("/request-access"),
                     client.get("/events/guest/confirm/not-a-token"),
                     client.get("/no/such/page")):
        assert response.headers.get("Cache-Control") == "no-store", response.request.path
    static = client.get("/static/js/portal.js")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")
