"""Signing in and out: session rotation, no user enumeration, idle timeout, sessions that
end when an account is deactivated or its password changes, and safe `next` links."""

from __future__ import annotations

import re
import time

import pytest

from portal.security import is_safe_next
from tests.conftest import TEST_PASSWORD, login
from tests.foundation.helpers import audit, flashes

COOKIE = "portal_session"


def _cookie(client) -> str | None:  # noqa: ANN001
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def _signed_in(client) -> bool:  # noqa: ANN001
    response = client.get("/dashboard")
    return response.status_code == 200


def test_login_rotates_session_and_logout_clears_it(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer()
    client = app_ctx.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by someone before the login"  # a fixation attempt
    before = _cookie(client)

    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard"
    signed_in_cookie = _cookie(client)
    assert signed_in_cookie and signed_in_cookie != before
    with client.session_transaction() as session:
        assert "planted" not in session
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    page = client.get("/dashboard")
    assert page.status_code == 200 and user.name in page.get_data(as_text=True)

    response = client.post("/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert not _signed_in(client)
    assert audit("logout", actor_id=user.id)

    # The cookie from before the logout, replayed, opens nothing.
    thief = app_ctx.test_client()
    thief.set_cookie(COOKIE, signed_in_cookie)
    assert thief.get("/dashboard").status_code == 302


def _normalized(response, email: str = "") -> str:  # noqa: ANN001
    """The page without what differs by design: the address typed, the CSRF token."""
    html = response.get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]*)"', html).group(1)
    html = html.replace(token, "TOKEN")
    return html.replace(email, "EMAIL") if email else html


def test_unknown_email_and_wrong_password_get_the_same_answer(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer(email="known@example.org")
    client = app_ctx.test_client()
    unknown = client.post("/login", data={"email": "unknown@example.org",
                                          "password": TEST_PASSWORD})
    wrong = client.post("/login", data={"email": "known@example.org",
                                        "password": "not the password"})
    assert unknown.status_code == wrong.status_code == 401
    assert _normalized(unknown, "unknown@example.org") == _normalized(wrong, user.email)
    assert "E-mail or password is not right." in flashes(wrong)
    assert {e.actor_label for e in audit("login.failed")} == {"unknown@example.org",
                                                              "known@example.org"}


def test_reset_request_answers_the_same_for_known_and_unknown(app_ctx, factory) -> None:  # noqa: ANN001
    factory.reviewer(email="known@example.org")
    client = app_ctx.test_client()
    known = client.post("/password/forgot", data={"email": "known@example.org"},
                        follow_redirects=True)
    unknown = client.post("/password/forgot", data={"email": "nobody@example.org"},
                          follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert _normalized(known) == _normalized(unknown)
    assert "If an account uses this address" in flashes(known)[0]


def test_idle_session_ends(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer()
    client = app_ctx.test_client()
    login(client, user)
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - 29 * 60
    assert _signed_in(client)  # 29 minutes is within the 30-minute limit
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - 31 * 60
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/account")
    page = client.get(response.headers["Location"])
    assert "signed out after a period of inactivity" in " ".join(flashes(page))
    assert not _signed_in(client)


def test_sessions_end_after_session_hours_even_when_busy(client, factory) -> None:  # noqa: ANN001
    login(client, factory.reviewer())
    with client.session_transaction() as session:
        session["started"] = int(time.time()) - 13 * 3600  # the limit is 12 hours
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert not _signed_in(client)


def test_deactivation_ends_an_open_session_at_once(app_ctx, factory) -> None:  # noqa: ANN001
    staff = factory.staff()
    user = factory.nominator()
    staff_client, user_client = app_ctx.test_client(), app_ctx.test_client()
    login(staff_client, staff)
    login(user_client, user)
    assert _signed_in(user_client)

    response = staff_client.post(f"/admin/people/{user.id}/deactivate")
    assert response.status_code == 303
    assert user_client.get("/dashboard").status_code == 302
    # And the right password no longer opens the account.
    again = user_client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert again.status_code == 401


def test_password_change_ends_other_sessions(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer()
    laptop, phone = app_ctx.test_client(), app_ctx.test_client()
    login(laptop, user)
    login(phone, user)
    response = laptop.post("/account/password", data={
        "current": TEST_PASSWORD, "password": "a brand new pass", "confirm": "a brand new pass"})
    assert response.status_code == 303
    assert _signed_in(laptop)
    assert not _signed_in(phone)
    assert phone.post("/login", data={"email": user.email, "password": TEST_PASSWORD}
                      ).status_code == 401
    login(phone, user, "a brand new pass")


def test_password_change_needs_the_current_password(client, factory) -> None:  # noqa: ANN001
    user = factory.reviewer()
    login(client, user)
    response = client.post("/account/password", data={
        "current": "a guess", "password": "a brand new pass", "confirm": "a brand new pass"})
    assert response.status_code == 422
    assert "This is not your current password." in response.get_data(as_text=True)
    client.post("/logout")
    login(client, user)  # the old password still works


EVIL_NEXT = [
    "//evil.com", "https://evil.com", "http://evil.com/login", "/\\evil.com", "\\\\evil.com",
    "javascript:alert(1)", "//evil.com/%2F..", "/\t/evil.com", "evil.com", " //evil.com",
    "https:evil.com", "/\r\n/evil.com",
]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_next_only_to_local_paths(target: str) -> None:
    assert not is_safe_next(target)


def test_sign_in_sends_on_to_local_paths_only(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.staff()
    client = app_ctx.test_client()
    for target in EVIL_NEXT:
        response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD,
                                               "next": target})
        assert response.status_code == 303
        assert response.headers["Location"] == "/dashboard", target
        # Already signed in: the sign-in page sends on, and also only to local paths.
        response = client.get("/login", query_string={"next": target})
        assert response.headers["Location"] == "/dashboard", target
        response = client.post("/language", data={"lang": "en", "next": target})
        assert response.headers["Location"] == "/", target
        client.post("/logout")

    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD,
                                           "next": "/admin/people?q=a"})
    assert response.headers["Location"] == "/admin/people?q=a"


def test_sign_in_page_keeps_where_the_person_was_going(client) -> None:  # noqa: ANN001
    response = client.get("/admin/people")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert re.search(r'name="next"[^>]*value="/admin/people"', page.get_data(as_text=True))
