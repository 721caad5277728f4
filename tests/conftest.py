"""Fixtures: an app per database backend, a clean database per test, real services.

Every test that asks for `app` (or `client`, `db_session`...) runs twice: on SQLite and
on PostgreSQL. Set PORTAL_TEST_BACKENDS=sqlite to run one backend while working.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from tests import services

BACKENDS = [b for b in os.environ.get("PORTAL_TEST_BACKENDS", "sqlite,postgresql").split(",")
            if b]
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TEST_PASSWORD = "test-pass-2026!"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL database of this test worker, created now and dropped at the end."""
    services.ensure_postgres()
    # The process id too: several test runs may share one PostgreSQL server.
    name = f"portal_test_{_worker()}_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    services.ensure_redis()
    return "redis://127.0.0.1:6379/15"


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own application context, as in
    production.

    Tests hold an application context open (`app_ctx`); without this, a request would
    reuse it, and with it `g`: the signed-in user (Flask-Login keeps it in `g`), the
    locale and the viewer's time zone would carry over from one client's request to
    another client's. What the test added is committed first so the request sees it (and
    on SQLite the test's own transaction does not hold the write lock during the request).
    """

    def open(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        from flask.globals import _cv_app

        from portal.extensions import db

        outer = _cv_app.get(None)
        if self.preserve_context or outer is None:
            return super().open(*args, **kwargs)
        db.session.commit()  # the session of the test's own application context
        if outer.app is not self.application:
            return super().open(*args, **kwargs)  # another app gets its own context anyway
        kwargs.setdefault("buffered", True)  # produce the body inside the request's context
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)


def make_test_app(database_url: str, tmp: Path, **overrides):  # noqa: ANN003, ANN201
    from portal import create_app

    config = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "STORAGE": "local",
        "STORAGE_LOCAL_ROOT": str(tmp / "uploads"),
        "SMTP_HOST": "",
        "WTF_CSRF_ENABLED": False,
        "TESTING": True,
        "BASE_URL": "http://portal.test",
        "LOGIN_LIMIT": "1000 per minute",
    }
    config.update(overrides)
    application = create_app(config)
    application.test_client_class = IsolatedClient
    return application


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):  # noqa: ANN001, ANN201
    """The portal on one backend, schema created once; tables emptied after each test."""
    from portal.extensions import db

    tmp = tmp_path_factory.mktemp(f"app-{request.param}")
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp / 'portal.db'}"
    application = make_test_app(url, tmp)
    application.config["BACKEND"] = request.param
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def empty_database(application) -> None:  # noqa: ANN001
    from portal.extensions import db

    with application.app_context():
        db.session.remove()
        tables = list(reversed(db.metadata.sorted_tables))
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())
                conn.execute(text("DELETE FROM sqlite_sequence")) if conn.execute(text(
                    "SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() \
                    else None


@pytest.fixture
def app_ctx(app):  # noqa: ANN001, ANN201
    """An application context for the test; the database is emptied afterwards."""
    from portal.extensions import limiter

    ctx = app.app_context()
    ctx.push()
    limiter.reset()
    try:
        yield app
    finally:
        ctx.pop()
        app.extensions.pop("portal_ready_jobs", None)
        empty_database(app)


@pytest.fixture
def db_session(app_ctx):  # noqa: ANN001, ANN201
    from portal.extensions import db

    return db.session


@pytest.fixture
def client(app_ctx):  # noqa: ANN001, ANN201
    return app_ctx.test_client()


@pytest.fixture
def factory(app_ctx):  # noqa: ANN001, ANN201
    from tests.factories import Factory

    return Factory()


def login(client, user, password: str = TEST_PASSWORD):  # noqa: ANN001, ANN201
    """Sign in through the real form; returns the response."""
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 303, response.data[:500]
    return response


@pytest.fixture
def login_as(client):  # noqa: ANN001, ANN201
    def _login(user, password: str = TEST_PASSWORD):  # noqa: ANN001, ANN202
        client.post("/logout")
        return login(client, user, password)

    return _login


# --- real SMTP server --------------------------------------------------------------------

class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.refuse = False

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address.lower() in m["To"].lower()]


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int, Mailbox]]:
    """An aiosmtpd server on a free port; `mailbox.refuse = True` makes it answer 451."""
    from aiosmtpd.controller import Controller

    box = Mailbox()

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN202, N802
            if box.refuse:
                return "451 Try again later"
            with box.lock:
                box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    port = services.free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, box
    finally:
        controller.stop()


# --- real S3 endpoint -----------------------------------------------------------------

@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server over HTTP on a free local port."""
    from moto.server import ThreadedMotoServer

    port = services.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
