"""Two-step sign-in with an authenticator app (TOTP) and one-time recovery codes."""

from __future__ import annotations

import re
import time

import pyotp

from portal.accounts.models import User
from tests.conftest import TEST_PASSWORD, login
from tests.foundation.helpers import audit, client_at, fresh, link_path, outbox


def _enrol(client) -> tuple[str, list[str]]:  # noqa: ANN001
    """Go through the enrolment pages; returns the secret and the recovery codes."""
    assert client.post("/account/2fa/setup").status_code == 303
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "<svg" in page and " style=" not in page  # the QR code, allowed by the CSP
    secret = re.search(r"<code>([A-Z2-7]{16,})</code>", page).group(1)
    wrong = client.post("/account/2fa/enable", data={"code": "000000"}, follow_redirects=True)
    assert "The code did not match." in wrong.get_data(as_text=True)
    done = client.post("/account/2fa/enable", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _next_code(secret: str) -> str:
    """The code of the next time step (the one shown when enrolling was used up)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def _password_step(client, user) -> None:  # noqa: ANN001
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD,
                                           "next": "/account"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login/verify"
    assert client.get("/dashboard").status_code == 302  # not signed in yet


def test_enrol_then_sign_in_with_a_code(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer()
    client = app_ctx.test_client()
    login(client, user)
    secret, _codes = _enrol(client)
    assert fresh(User, user.id).has_2fa
    assert audit("account.2fa_enabled", object_id=str(user.id))
    client.post("/logout")

    _password_step(client, user)
    wrong = client.post("/login/verify", data={"code": "123456"})
    assert wrong.status_code == 401
    assert "This code is not right." in wrong.get_data(as_text=True)
    response = client.post("/login/verify", data={"code": _next_code(secret)})
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert client.get("/dashboard").status_code == 200
    [event] = audit("login", actor_id=user.id)[-1:]
    assert event.details["method"] == "password+totp"


def test_recovery_code_works_once(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.staff()
    client = app_ctx.test_client()
    login(client, user)
    _secret, codes = _enrol(client)
    client.post("/logout")

    _password_step(client, user)
    response = client.post("/login/verify", data={"code": codes[3]})
    assert response.status_code == 303
    assert client.get("/dashboard").status_code == 200
    client.post("/logout")

    _password_step(client, user)
    assert client.post("/login/verify", data={"code": codes[3]}).status_code == 401
    assert client.get("/dashboard").status_code == 302


def test_the_code_step_cannot_be_skipped(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer()
    client = app_ctx.test_client()
    login(client, user)
    _enrol(client)
    client.post("/logout")
    stranger = app_ctx.test_client()
    response = stranger.post("/login/verify", data={"code": "123456"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"


def test_turning_it_off_needs_the_password(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer()
    client = app_ctx.test_client()
    login(client, user)
    _enrol(client)
    client.post("/account/2fa/disable", data={"password": "a guess"})
    assert fresh(User, user.id).has_2fa
    client.post("/account/2fa/disable", data={"password": TEST_PASSWORD})
    assert not fresh(User, user.id).has_2fa


def test_staff_must_enrol_when_required(app_ctx, factory, settings) -> None:  # noqa: ANN001
    settings(REQUIRE_2FA_STAFF=True)
    staff, reviewer = factory.staff(), factory.reviewer()
    client = app_ctx.test_client()
    login(client, staff)
    for path in ("/dashboard", "/admin/people", "/account"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/2fa"
    assert client.post("/admin/people/invite", data={}).status_code == 303
    page = client.get("/account/2fa")
    assert page.status_code == 200
    assert "Staff accounts need two-step sign-in." in page.get_data(as_text=True)
    _enrol(client)
    assert client.get("/admin/people").status_code == 200
    # Required means it cannot be turned off again.
    assert client.post("/account/2fa/disable",
                       data={"password": TEST_PASSWORD}).status_code == 403

    other = app_ctx.test_client()
    login(other, reviewer)
    assert other.get("/dashboard").status_code == 200  # only staff are forced


def test_a_reset_link_does_not_skip_the_second_factor(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer()
    client = app_ctx.test_client()
    login(client, user)
    secret, _codes = _enrol(client)
    client.post("/logout")

    client.post("/password/forgot", data={"email": user.email})
    link = link_path(outbox(user.email)[-1])
    response = client.post(link, data={"password": "new password 2026",
                                       "confirm": "new password 2026"})
    assert response.status_code == 303 and response.headers["Location"] == "/login/verify"
    assert client.get("/dashboard").status_code == 302  # the mailbox alone is not enough
    client.post("/login/verify", data={"code": _next_code(secret)})
    assert client.get("/dashboard").status_code == 200


def test_codes_are_limited_per_account(app_ctx, factory, settings) -> None:  # noqa: ANN001
    user = factory.reviewer()
    client = app_ctx.test_client()
    login(client, user)
    secret, _codes = _enrol(client)
    settings(LOGIN_ACCOUNT_LIMIT="3 per minute")  # from many addresses: the account's ceiling

    def code_from(ip: str, code: str) -> int:
        other = client_at(app_ctx, ip)
        other.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
        return other.post("/login/verify", data={"code": code}).status_code

    assert [code_from(f"203.0.113.{i}", "000000") for i in (1, 2, 3)] == [401, 401, 401]
    assert code_from("203.0.113.4", _next_code(secret)) == 429


def test_wrong_codes_from_one_address_do_not_lock_out_the_owner(app_ctx, factory,  # noqa: ANN001
                                                                settings) -> None:
    user = factory.reviewer()
    client = app_ctx.test_client()
    login(client, user)
    secret, _codes = _enrol(client)
    settings(LOGIN_LIMIT="3 per minute")

    def code_from(ip: str, code: str) -> int:
        other = client_at(app_ctx, ip)
        other.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
        return other.post("/login/verify", data={"code": code}).status_code

    assert [code_from("203.0.113.9", "000000") for _ in range(4)] == [401, 401, 401, 429]
    assert code_from("192.0.2.30", _next_code(secret)) == 303


def test_a_code_cannot_be_replayed_within_its_window(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer()
    client = app_ctx.test_client()
    login(client, user)
    secret, _codes = _enrol(client)
    client.post("/logout")
    code = _next_code(secret)
    _password_step(client, user)
    assert client.post("/login/verify", data={"code": code}).status_code == 303
    client.post("/logout")

    # Someone who watched the code being typed tries it again a few seconds later.
    _password_step(client, user)
    replay = client.post("/login/verify", data={"code": code})
    assert replay.status_code == 401
    assert client.get("/dashboard").status_code == 302


def test_the_enrolment_code_does_not_sign_in_again(app_ctx, factory) -> None:  # noqa: ANN001
    """Issue 12, point 12: the code typed to turn the second factor on is used up; someone
    who saw it (over a shoulder, on a shared screen) cannot sign in with it afterwards."""
    user = factory.reviewer()
    client = app_ctx.test_client()
    login(client, user)
    assert client.post("/account/2fa/setup").status_code == 303
    page = client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]{16,})</code>", page).group(1)
    code = pyotp.TOTP(secret).now()
    assert client.post("/account/2fa/enable", data={"code": code}).status_code == 200
    client.post("/logout")

    _password_step(client, user)
    again = client.post("/login/verify", data={"code": code})
    assert again.status_code == 401
    assert client.get("/dashboard").status_code == 302
