"""Sign-in attempts are limited per account and address together (growing windows, so one
address cannot lock an account out for everyone), with higher ceilings per account (from
wherever) and per address (whichever accounts it tries); in memory in the embedded mode
and in Redis when configured (shared by every worker). Refusals say when to try again."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from redis import Redis

from portal.db import utcnow
from portal.extensions import db, limiter
from tests.conftest import TEST_PASSWORD, login, make_test_app
from tests.foundation.helpers import client_at, outbox


def _try(app, ip: str, email: str, password: str = "wrong password") -> int:  # noqa: ANN001, S107
    return client_at(app, ip).post("/login", data={"email": email, "password": password}
                                   ).status_code


def _one_account_from_many_addresses(app, email: str) -> None:  # noqa: ANN001
    assert [_try(app, f"203.0.113.{i}", email) for i in (1, 2, 3)] == [401, 401, 401]
    # The fourth try is refused even with the right password, from a new address: the
    # account's ceiling (LOGIN_ACCOUNT_LIMIT).
    response = client_at(app, "203.0.113.4").post(
        "/login", data={"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "Too many" in response.get_data(as_text=True)


def _many_accounts_from_one_address(app, emails: list[str]) -> None:  # noqa: ANN001
    assert [_try(app, "192.0.2.7", e) for e in emails[:3]] == [401, 401, 401]
    assert _try(app, "192.0.2.7", emails[3], TEST_PASSWORD) == 429
    # Another address is not affected, and that account is not locked.
    assert _try(app, "192.0.2.8", emails[3], TEST_PASSWORD) == 303


@pytest.fixture
def three_per_minute(settings) -> None:  # noqa: ANN001
    settings(LOGIN_LIMIT="3 per minute", LOGIN_ACCOUNT_LIMIT="3 per minute",
             LOGIN_ADDRESS_LIMIT="3 per minute")


def test_memory_limit_per_account(app_ctx, factory, three_per_minute) -> None:  # noqa: ANN001
    _one_account_from_many_addresses(app_ctx, factory.reviewer().email)


def test_memory_limit_per_address(app_ctx, factory, three_per_minute) -> None:  # noqa: ANN001
    emails = [factory.reviewer().email for _ in range(4)]
    _many_accounts_from_one_address(app_ctx, emails)


def test_successful_logins_do_not_count(app_ctx, factory, three_per_minute) -> None:  # noqa: ANN001
    user = factory.reviewer()
    for _ in range(4):
        assert _try(app_ctx, "192.0.2.9", user.email, TEST_PASSWORD) == 303


@pytest.fixture
def redis_app(app_ctx, redis_url, tmp_path) -> Iterator:  # noqa: ANN001
    """A second portal app on the same database, its limits kept in Redis (db 15) under
    a key prefix of this test process (parallel test workers share the Redis server)."""
    prefix = f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}"
    store = Redis.from_url(redis_url)

    def forget() -> None:
        for key in store.scan_iter(f"*{prefix}*"):
            store.delete(key)

    forget()
    # The limiter object is shared by every app of this process: put the memory store of
    # the session's app back afterwards.
    saved = limiter._storage, limiter._limiter
    other = make_test_app(app_ctx.config["DATABASE_URL"], tmp_path, REDIS_URL=redis_url,
                          LOGIN_LIMIT="3 per minute", LOGIN_ACCOUNT_LIMIT="3 per minute",
                          LOGIN_ADDRESS_LIMIT="3 per minute", RATELIMIT_KEY_PREFIX=prefix)
    try:
        yield other
    finally:
        limiter._storage, limiter._limiter = saved
        with other.app_context():
            db.engine.dispose()
        forget()
        store.close()


def test_redis_limit_per_account(redis_app, factory, redis_url) -> None:  # noqa: ANN001
    email = factory.reviewer().email
    _one_account_from_many_addresses(redis_app, email)
    # The count lives in Redis, where every worker sees it.
    assert any(b"login-account" in k for k in Redis.from_url(redis_url).scan_iter())


def test_redis_limit_per_address(redis_app, factory) -> None:  # noqa: ANN001
    emails = [factory.reviewer().email for _ in range(4)]
    _many_accounts_from_one_address(redis_app, emails)



# --- issue 12, point 13: no lock-out for everyone, waits that grow, other password forms --

def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out(app_ctx, factory,  # noqa: ANN001
                                                                    settings) -> None:
    settings(LOGIN_LIMIT="3 per minute")
    owner = factory.reviewer()
    assert [_try(app_ctx, "198.51.100.66", owner.email) for _ in range(3)] == [401] * 3
    refused = client_at(app_ctx, "198.51.100.66").post(
        "/login", data={"email": owner.email, "password": TEST_PASSWORD})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "please wait 1 minute" in refused.get_data(as_text=True)
    # The owner, at the hospital, signs in as usual.
    assert _try(app_ctx, "192.0.2.10", owner.email, TEST_PASSWORD) == 303


def test_a_shared_address_does_not_block_the_other_accounts(app_ctx, factory,  # noqa: ANN001
                                                            settings) -> None:
    settings(LOGIN_LIMIT="3 per minute")
    clumsy, colleague = factory.nominator(), factory.nominator()
    hospital = "192.0.2.20"
    assert [_try(app_ctx, hospital, clumsy.email) for _ in range(4)] == [401] * 3 + [429]
    assert _try(app_ctx, hospital, colleague.email, TEST_PASSWORD) == 303
    assert _try(app_ctx, hospital, factory.reviewer().email) == 401


def test_each_further_limit_is_a_longer_wait(app_ctx, factory, settings) -> None:  # noqa: ANN001
    settings(LOGIN_LIMIT="1 per 2 seconds;2 per hour")
    user = factory.reviewer()
    assert _try(app_ctx, "198.51.100.70", user.email) == 401
    first = client_at(app_ctx, "198.51.100.70").post(
        "/login", data={"email": user.email, "password": "again wrong"})
    assert first.status_code == 429 and int(first.headers["Retry-After"]) <= 2
    time.sleep(2.1)  # the short window passes (in the test; the portal never sleeps)
    assert _try(app_ctx, "198.51.100.70", user.email) == 401
    second = client_at(app_ctx, "198.51.100.70").post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert second.status_code == 429 and int(second.headers["Retry-After"]) > 3000


def test_the_current_password_is_guessed_no_faster_than_at_sign_in(app_ctx, factory,  # noqa: ANN001
                                                                   settings) -> None:
    user = factory.reviewer()
    client = client_at(app_ctx, "198.51.100.80")
    login(client, user)
    settings(LOGIN_LIMIT="3 per minute")
    change = {"current": "a guess", "password": "brand new pass 1", "confirm": "brand new pass 1"}
    answers = [client.post("/account/password", data=change).status_code for _ in range(4)]
    assert answers == [422, 422, 422, 429]
    # The same counter as signing in: this account from this address is held back there too.
    assert _try(app_ctx, "198.51.100.80", user.email, TEST_PASSWORD) == 429
    assert _try(app_ctx, "198.51.100.81", user.email, TEST_PASSWORD) == 303


def test_turning_two_step_sign_in_off_is_limited_like_sign_in(app_ctx, factory,  # noqa: ANN001
                                                              settings) -> None:
    user = factory.reviewer()
    client = client_at(app_ctx, "198.51.100.90")
    login(client, user)
    settings(LOGIN_LIMIT="3 per minute")
    answers = [client.post("/account/2fa/disable", data={"password": "a guess"}).status_code
               for _ in range(4)]
    assert answers == [303, 303, 303, 429]


def test_forgotten_password_requests_are_limited_per_address(app_ctx, factory,  # noqa: ANN001
                                                             settings) -> None:
    settings(FORGOT_PASSWORD_LIMIT="2 per hour")
    emails = [factory.reviewer().email for _ in range(3)]
    answers = [client_at(app_ctx, "198.51.100.99").post(
        "/password/forgot", data={"email": e}).status_code for e in emails]
    assert answers == [303, 303, 429]
    assert client_at(app_ctx, "198.51.100.98").post(
        "/password/forgot", data={"email": emails[2]}).status_code == 303


def test_the_person_is_told_when_the_password_changes_or_two_step_goes_off(  # noqa: ANN001
        app_ctx, factory) -> None:
    user = factory.reviewer(email="told@example.org")
    client = app_ctx.test_client()
    login(client, user)
    assert client.post("/account/password", data={
        "current": TEST_PASSWORD, "password": "brand new pass 1",
        "confirm": "brand new pass 1"}).status_code == 303
    [changed] = outbox("told@example.org")
    assert changed.template == "password_changed"
    assert "was changed on" in changed.body_text
    assert "http://portal.test/password/forgot" in changed.body_text

    db.session.refresh(user)
    user.totp_enabled_at, user.totp_secret = utcnow(), "JBSWY3DPEHPK3PXP"
    db.session.commit()
    assert client.post("/account/2fa/disable", data={"password": "brand new pass 1"}
                       ).status_code == 303
    off = outbox("told@example.org")[-1]
    assert off.template == "two_factor_disabled" and "turned off" in off.body_text
