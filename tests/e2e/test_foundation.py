"""The foundation in a real browser: sign in per role, language, accessibility, 360 px."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.conftest import (
    assert_accessible,
    no_horizontal_scroll,
    problems,
    scroll_width,
    sign_in,
    wide_elements,
)

pytestmark = pytest.mark.e2e

ADMIN = "admin@example.org"
NOMINATOR_KL = "nominator@hospital-kl.example.org"
NOMINATOR_HANOI = "nominator@hospital-hanoi.example.org"
REVIEWER = "reviewer1@example.org"
ALUMNUS = "alumnus1@example.org"

# The foundation's own menu entries and who may see them. Later areas add links of their
# own, so the menu is checked for these, not compared with a closed list.
STAFF_LINKS = ["People", "Institutions", "Outbox", "Audit log"]
NOMINATOR_LINKS = ["My institution's people"]


@dataclass(frozen=True)
class RoleCase:
    email: str
    name: str
    heading: str  # pattern of the heading of the role's dashboard section
    links: tuple[str, ...]  # menu entries only this role has among the foundation's


ROLES = [
    RoleCase(ADMIN, "Keiko Tanaka", r"Program staff", tuple(STAFF_LINKS)),
    # A nominator's section names their own institution, never another one.
    RoleCase(NOMINATOR_KL, "Siti Rahman", r"Nominations\b.*Kuala Lumpur General Hospital",
             tuple(NOMINATOR_LINKS)),
    RoleCase(NOMINATOR_HANOI, "Trần Thị Mai", r"Nominations\b.*Hanoi Heart Hospital",
             tuple(NOMINATOR_LINKS)),
    RoleCase(REVIEWER, "Dr. Hiroshi Sato", r"Selection committee", ()),
    RoleCase(ALUMNUS, "Dr. Somchai Prasert", r"Alumni", ()),
]

# (name, who signs in or None, path) of the pages checked for accessibility and 360 px.
PAGES = [
    ("home", None, "/"),
    ("login", None, "/login"),
    ("request-access", None, "/request-access"),
    ("profile", NOMINATOR_KL, "/account"),
    ("people", ADMIN, "/admin/people"),
    ("institutions", ADMIN, "/admin/institutions"),
    ("outbox", ADMIN, "/admin/outbox"),
    ("audit", ADMIN, "/admin/audit"),
] + [(f"dashboard-{r.email.split('@')[0]}-{r.email.split('@')[1].split('.')[0]}", r.email,
      "/dashboard") for r in ROLES]


def _menu(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("header nav a").all_inner_texts()]


def _open_page(tab: Any, base: str, who: str | None, path: str) -> None:
    if who:
        sign_in(tab, base, who, reuse=True)
    response = tab.goto(base + path)
    assert response is not None and response.ok, f"{path}: {response and response.status}"


def _assert_clean(tab: Any) -> None:
    found = problems(tab)
    assert found.console_errors == [], found.console_errors
    assert found.csp_violations == [], found.csp_violations
    assert found.page_errors == [], found.page_errors


def _tab_through(tab: Any, limit: int = 120) -> tuple[list[str], list[str]]:
    """Press Tab from the top of the page; returns (reached, focusable) element labels.

    Every visible link, button and field is numbered first, so the walk can tell which of
    them the keyboard reached before focus wrapped around to the browser's own UI.
    """
    focusable = tab.evaluate(
        """() => {
            const sel = 'a[href], button, input:not([type=hidden]), select, textarea, ' +
                        '[tabindex]:not([tabindex="-1"])';
            const out = [];
            document.querySelectorAll(sel).forEach((el, i) => {
                const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
                if (el.disabled || s.visibility === 'hidden' || s.display === 'none') return;
                if (r.width === 0 && r.height === 0 && !el.matches('.skip-link')) return;
                el.dataset.e2eKey = 'k' + i;
                out.push('k' + i);
            });
            return out;
        }"""
    )
    tab.evaluate("document.activeElement && document.activeElement.blur()")
    tab.evaluate("window.scrollTo(0, 0)")
    reached: list[str] = []
    for _ in range(limit):
        tab.keyboard.press("Tab")
        # Scrollable boxes (wide tables) take focus too: they have no key and are passed.
        key = tab.evaluate("""() => { const el = document.activeElement;
            return (!el || el === document.body) ? 'END' : (el.dataset.e2eKey || ''); }""")
        if reached and key in ("END", reached[0]):
            break  # wrapped around
        if key and key != "END" and key not in reached:
            reached.append(key)  # a date field keeps focus for its parts: counted once
    labels = dict(zip(focusable, tab.evaluate(
        """(keys) => keys.map(k => { const el = document.querySelector(`[data-e2e-key="${k}"]`);
            return el.tagName.toLowerCase() + ' ' + (el.innerText || el.name || el.id || '')
                .trim().slice(0, 40); })""", focusable), strict=True))
    return [labels[k] for k in reached], [labels[k] for k in focusable]


# --- signing in and out --------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.email.split("@")[1].split(".")[0]
                         + "-" + r.email.split("@")[0])
def test_each_role_sees_its_dashboard_and_only_its_menu(page, live_server, role: RoleCase):
    sign_in(page, live_server, role.email)

    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == f"Welcome, {role.name}"
    headings = [h.strip() for h in page.locator("main section h2").all_inner_texts()]
    assert [h for h in headings if re.fullmatch(role.heading, h)], headings
    for other in {r.heading for r in ROLES} - {role.heading}:
        assert not [h for h in headings if re.fullmatch(other, h)], (other, headings)

    menu = _menu(page)
    assert "Dashboard" in menu and "My account" in menu
    for label in STAFF_LINKS + NOMINATOR_LINKS:
        assert (label in menu) == (label in role.links), (label, menu)
    if role.email != ADMIN:
        hrefs = page.locator("header nav a").evaluate_all("els => els.map(a => a.pathname)")
        assert not [h for h in hrefs if h.startswith("/admin")], hrefs
    assert page.get_by_role("link", name="Dashboard").get_attribute("aria-current") == "page"
    _assert_clean(page)


def test_a_wrong_password_shows_the_message_and_signs_nobody_in(page, live_server):
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(ADMIN)
    page.get_by_label("Password").fill("not-the-password")
    page.locator("main form").get_by_role("button", name="Sign in").click()

    alert = page.get_by_role("alert")
    assert alert.inner_text() == "E-mail or password is not right."
    assert page.url.endswith("/login")
    assert page.get_by_label("E-mail").input_value() == ADMIN
    assert page.get_by_label("Password").input_value() == ""
    assert page.get_by_role("button", name="Sign out").count() == 0
    assert_accessible(page)
    page.goto(f"{live_server}/dashboard")
    assert "/login" in page.url


def test_sign_out_ends_the_session(page, live_server):
    sign_in(page, live_server, REVIEWER)
    page.get_by_role("button", name="Sign out").click()

    page.wait_for_url(re.compile(r"/login$"))
    assert page.get_by_role("status").inner_text() == "You are signed out."
    assert page.get_by_role("link", name="Sign in").is_visible()
    page.goto(f"{live_server}/dashboard")
    assert "/login" in page.url
    _assert_clean(page)


def test_keyboard_alone_signs_in(phone, live_server):
    phone.goto(f"{live_server}/login")
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.className") == "skip-link"
    for _ in range(20):  # through the menu to the form's first field
        if phone.evaluate("document.activeElement.id") == "email":
            break
        phone.keyboard.press("Tab")
    phone.keyboard.type(NOMINATOR_HANOI)
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.id") == "password"
    phone.keyboard.type("demo-pass-2026")
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.textContent.trim()") == "Sign in"
    with phone.expect_navigation():
        phone.keyboard.press("Enter")

    assert phone.url.endswith("/dashboard")
    assert phone.get_by_role("heading", level=1).inner_text() == "Welcome, Trần Thị Mai"
    _assert_clean(phone)


# --- language ------------------------------------------------------------------------------

def test_switching_to_japanese_changes_the_page_language(page, live_server):
    page.goto(f"{live_server}/login")
    assert page.locator("html").get_attribute("lang") == "en"
    with page.expect_navigation():
        page.get_by_role("button", name="日本語").click()

    assert page.url.endswith("/login")  # stays on the same page
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.get_by_role("button", name="English").is_visible()
    page.goto(f"{live_server}/")  # remembered on the next page
    assert page.locator("html").get_attribute("lang") == "ja"
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    _assert_clean(page)


# --- accessibility and small screens -----------------------------------------------------

@pytest.mark.parametrize(("who", "path"), [(w, p) for _, w, p in PAGES],
                         ids=[n for n, _, _ in PAGES])
def test_page_has_no_serious_accessibility_violation(page, live_server, who, path):
    _open_page(page, live_server, who, path)

    assert_accessible(page)
    _assert_clean(page)


@pytest.mark.parametrize(("who", "path"), [(w, p) for _, w, p in PAGES],
                         ids=[n for n, _, _ in PAGES])
def test_page_fits_360px_and_works_by_keyboard(phone, live_server, who, path):
    _open_page(phone, live_server, who, path)

    assert no_horizontal_scroll(phone), (scroll_width(phone), wide_elements(phone))
    reached, focusable = _tab_through(phone)
    assert [f for f in focusable if f not in reached] == []
    assert_accessible(phone)
    _assert_clean(phone)


def test_staff_search_updates_the_table_in_place(page, live_server):
    sign_in(page, live_server, ADMIN)
    page.goto(f"{live_server}/admin/people")
    rows = page.locator("#people-table tbody tr")
    everyone = rows.count()
    page.evaluate("window.e2eSamePage = true")  # gone if the page were reloaded

    page.get_by_label("Search").fill("hanoi")
    page.wait_for_function("""() => {
        const rows = [...document.querySelectorAll('#people-table tbody tr')];
        return rows.length > 0 && rows.every(r => r.innerText.toLowerCase().includes('hanoi'));
    }""")
    assert 0 < rows.count() < everyone
    assert page.evaluate("window.e2eSamePage") is True
    page.wait_for_url(re.compile(r"q=hanoi"))  # the address can be bookmarked and shared
    _assert_clean(page)
