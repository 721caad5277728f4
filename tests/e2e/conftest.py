"""Browser (end-to-end) test fixtures: the real portal in a real Chromium.

How to write an e2e test (any area)
-----------------------------------
Put it in ``tests/e2e/test_<area>.py`` and mark it ``@pytest.mark.e2e``::

    import pytest
    from tests.e2e.conftest import assert_accessible, sign_in

    pytestmark = pytest.mark.e2e

    def test_nominator_sees_the_cycle(page, live_server):
        sign_in(page, live_server, "nominator@hospital-kl.example.org")
        page.get_by_role("link", name="Nominations").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Nominations"
        assert_accessible(page)

Fixtures
--------
``live_server`` (session)
    Base URL (``http://127.0.0.1:<port>``, no trailing slash) of the portal served by
    werkzeug in a daemon thread, on SQLite in a temporary folder (schema from the
    migrations), with CSRF ON (as a browser sees it) and the demo data of
    ``portal.demo.load()`` (every area's loader):
    the accounts of the README, password ``demo-pass-2026`` (``DEMO_PASSWORD``).
    The database is shared by all e2e tests of the session: a test that changes
    something others read (an account's language, a record's status) must change it
    back, or use records it creates itself.
``e2e_app`` (session)
    The Flask app behind ``live_server``: ``with e2e_app.app_context(): ...`` to read
    what a page did (outbox rows, audit events) or to prepare records.
``browser`` (session)
    Debian's Chromium driven by sync Playwright. Missing Chromium: skipped locally, a
    failure under ``CI=true`` (the CI must never skip for want of a browser).
    ``PORTAL_E2E_CHROMIUM`` points at another binary.
``page`` / ``phone`` (function)
    A fresh context (no cookies) per test: desktop 1280x800, en-US; phone 360x740 with
    touch. Both fail the test at teardown if the page raised an uncaught JavaScript
    error or the browser reported a Content-Security-Policy violation; other console
    errors are collected in ``problems(page).console_errors`` for tests to assert on
    (a 401/422 page load is reported there too, as "Failed to load resource").

Helpers
-------
``sign_in(page, base_url, email, password=DEMO_PASSWORD, reuse=False)``
    Signs in through the login form and waits for the dashboard. ``reuse=True`` (tests
    that are not about signing in) reuses the account's session from an earlier test.
``axe_violations(page, impacts=("serious", "critical"))``
    Runs axe-core (static/vendor/axe.min.js, from ``make assets``) with the WCAG 2 A/AA
    rules; returns the violations as ``{"id", "impact", "help", "targets"}`` dicts, so
    ``assert_accessible(page)`` asserts there is none, with a readable failure message.
``no_horizontal_scroll(page)`` / ``wide_elements(page)``
    True when nothing sticks out of the viewport / what does (for the failure message).
``problems(page)``
    The console errors, CSP violations and uncaught errors seen so far.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_test_app, upgrade_schema
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "static" / "vendor" / "axe.min.js"
CHROMIUM = os.environ.get("PORTAL_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DEMO_PASSWORD = "demo-pass-2026"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> None:
    # A CI run that silently skips the browser tests would prove nothing.
    if ON_CI:
        pytest.fail(f"{reason} (CI=true: browser tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


# --- the portal ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def e2e_app(tmp_path_factory):  # noqa: ANN001, ANN201
    """The portal with CSRF on and the demo data loaded once for the whole session."""
    import portal.demo
    from portal.extensions import db

    tmp = tmp_path_factory.mktemp("e2e")
    app = make_test_app(f"sqlite:///{tmp}/e2e.db", tmp, WTF_CSRF_ENABLED=True)
    upgrade_schema(app)
    with app.app_context():
        portal.demo.load()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(e2e_app) -> Iterator[str]:  # noqa: ANN001
    """Base URL of the portal served over real HTTP in a background thread."""
    from werkzeug.serving import make_server

    # One log line per request would bury a failure's message; errors are still logged.
    access_log = logging.getLogger("werkzeug")
    level = access_log.level
    access_log.setLevel(logging.WARNING)
    port = free_port()
    server = make_server("127.0.0.1", port, e2e_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        access_log.setLevel(level)


# --- the browser --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    # Assertions wait up to 15 s (5 s by default): on a loaded 2-core CI machine an
    # autosave round trip or an htmx swap can take longer than 5 s without being wrong.
    expect.set_options(timeout=15_000)
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium not found at {CHROMIUM} (make browser installs it)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Problems:
    """What the browser complained about while a test ran."""

    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


_PROBLEMS: weakref.WeakKeyDictionary[Any, Problems] = weakref.WeakKeyDictionary()


def watch(page: Any) -> Problems:
    """Collect console errors, CSP violations and uncaught errors of `page`."""
    found = _PROBLEMS.setdefault(page, Problems())

    def on_console(message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            found.csp_violations.append(text)
        elif message.type == "error":
            found.console_errors.append(text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.page_errors.append(str(error)))
    return found


def problems(page: Any) -> Problems:
    """What `watch` collected for `page` (the page/phone fixtures watch their tab)."""
    if page not in _PROBLEMS:
        raise LookupError("this page is not watched: use the page/phone fixture or watch(page)")
    return _PROBLEMS[page]


def _open(browser: Any, **options: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-US", timezone_id="Asia/Tokyo", **options)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    found = watch(tab)
    try:
        yield tab
    finally:
        context.close()
    assert not found.csp_violations, f"CSP violations: {found.csp_violations}"
    assert not found.page_errors, f"JavaScript errors: {found.page_errors}"


@pytest.fixture
def page(browser) -> Iterator[Any]:  # noqa: ANN001
    """A desktop tab (1280x800, en-US) in a fresh context."""
    yield from _open(browser, viewport={"width": 1280, "height": 800})


@pytest.fixture
def phone(browser) -> Iterator[Any]:  # noqa: ANN001
    """A phone-sized tab (360x740, touch) in a fresh context."""
    yield from _open(browser, viewport={"width": 360, "height": 740}, is_mobile=True,
                     has_touch=True, device_scale_factor=2)


# --- helpers ------------------------------------------------------------------------------

_SESSIONS: dict[tuple[str, str], list[dict[str, Any]]] = {}


def sign_in(page: Any, base_url: str, email: str, password: str = DEMO_PASSWORD, *,
            reuse: bool = False) -> None:
    """Sign in through the login form and wait until the dashboard is shown.

    `reuse=True` (for tests that are not about signing in) puts the cookies of this
    account's earlier form sign-in in this session into the fresh context instead, which
    skips a page and an argon2 check; if that session no longer holds (signed out,
    deactivated), it signs in through the form after all.
    """
    key = (base_url, email)
    if reuse and key in _SESSIONS:
        page.context.add_cookies(_SESSIONS[key])
        page.goto(f"{base_url}/dashboard")
        if page.url.endswith("/dashboard"):
            return
        page.context.clear_cookies()
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.locator("main form").get_by_role("button", name="Sign in").click()
    assert page.url.endswith("/dashboard"), f"sign-in as {email} ended at {page.url}"
    _SESSIONS[key] = page.context.cookies()


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical"),
                   tags: list[str] | None = None) -> list[dict[str, Any]]:
    """axe-core's violations of the current page with one of `impacts`.

    The portal's CSP forbids inline scripts, so `add_script_tag(path=...)` (which inlines
    the file) is refused, as it should be; the same file is evaluated through the DevTools
    protocol instead, which page CSP does not govern and which leaves no violation behind.
    """
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make assets`", pytrace=False)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                               resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(' ') + ' ' + (n.failureSummary || ''))}));
        }""",
        tags or WCAG_TAGS,
    )
    return [v for v in result if v["impact"] in impacts]


def assert_accessible(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> None:
    """Fail with a readable list (rule, impact, help, elements) if axe finds a violation."""
    found = axe_violations(page, impacts)
    lines = [f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["targets"])
             for v in found]
    assert not found, f"axe-core on {page.url}:\n" + "\n".join(lines)


def scroll_width(page: Any) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def no_horizontal_scroll(page: Any) -> bool:
    """Nothing wider than the viewport (1 px of rounding allowed)."""
    return scroll_width(page) <= page.viewport_size["width"] + 1


def wide_elements(page: Any) -> list[str]:
    """Elements whose right edge passes the viewport: for failure messages."""
    return page.evaluate(
        """() => {
            const w = document.documentElement.clientWidth; const out = [];
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.right > w + 1 && r.width > 0) {
                    out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                             (el.className && typeof el.className === 'string'
                              ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
                             ' right=' + Math.round(r.right));
                }
            }
            return out.slice(0, 15);
        }"""
    )
