"""Sign-in attempts are limited per account (whoever tries it, from wherever) and per
address (whichever accounts it tries), in memory in the embedded mode and in Redis when
configured (shared by every worker)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from redis import Redis

from portal.extensions import limiter
from tests.conftest import TEST_PASSWORD, make_test_app
from tests.foundation.helpers import client_at


def _try(app, ip: str, email: str, password: str = "wrong password") -> int:  # noqa: ANN001, S107
    return client_at(app, ip).post("/login", data={"email": email, "password": password}
                                   ).status_code


def _one_account_from_many_addresses(app, email: str) -> None:  # noqa: ANN001
    assert [_try(app, f"203.0.113.{i}", email) for i in (1, 2, 3)] == [401, 401, 401]
    # The fourth try is refused even with the right password, from a new address.
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
    settings(LOGIN_LIMIT="3 per minute")


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
    from portal.extensions import db

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
                          LOGIN_LIMIT="3 per minute", RATELIMIT_KEY_PREFIX=prefix)
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
