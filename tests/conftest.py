"""Fixtures: an app per database backend, a clean database per test, real services.

Every test that asks for `app` (or `client`, `db_session`...) runs twice: on SQLite and
on PostgreSQL. Set PORTAL_TEST_BACKENDS=sqlite to run one backend while working.

The schema is the one the migrations build (`flask db upgrade`), once per test worker and
backend, not `db.create_all()`: a CHECK constraint or an index missing from a migration
fails the tests that rely on it, as it would fail in production. Each test then empties
the tables (`empty_database`).

Shared helpers: `count_queries()` (the SQL statements run inside a block), the moto S3
server (`s3_endpoint`), a real SMTP server (`smtp_server`), `make_app` (another portal on
the test's database, e.g. one on S3).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from unittest import mock

import flask_migrate
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession
from flask import Flask
from flask.globals import _cv_app
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session
from moto.server import ThreadedMotoServer
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import scoped_session
from werkzeug.test import TestResponse

from portal import create_app
from portal.accounts.models import User
from portal.extensions import db, limiter
from tests import services
from tests.factories import TEST_PASSWORD, Factory

BACKENDS = [b for b in os.environ.get("PORTAL_TEST_BACKENDS", "sqlite,postgresql").split(",")
            if b]
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


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

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        outer = _cv_app.get(None)
        if self.preserve_context or outer is None:
            return super().open(*args, **kwargs)
        db.session.commit()  # the session of the test's own application context
        if outer.app is not self.application:
            return super().open(*args, **kwargs)  # another app gets its own context anyway
        kwargs.setdefault("buffered", True)  # produce the body inside the request's context
        token = _cv_app.set(None)  # type: ignore[arg-type]  # no context: the request's own
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)


def make_test_app(database_url: str, tmp: Path, **overrides: object) -> Flask:
    config: dict[str, object] = {
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


def upgrade_schema(application: Flask) -> None:
    """Build the schema of the app's database with the migrations (`flask db upgrade`)."""
    # Alembic's env.py applies alembic.ini's logging, which disables every logger that
    # exists already (the portal's, which tests read with caplog): not in a test process.
    with application.app_context(), mock.patch("logging.config.fileConfig"):
        flask_migrate.upgrade()


@pytest.fixture(scope="session", params=BACKENDS)
def app(request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The portal on one backend, schema migrated once; tables emptied after each test."""
    tmp = tmp_path_factory.mktemp(f"app-{request.param}")
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp / 'portal.db'}"
    application = make_test_app(url, tmp)
    application.config["BACKEND"] = request.param
    upgrade_schema(application)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def empty_database(application: Flask) -> None:
    """Delete every row of the portal's tables (the migration bookkeeping stays)."""
    with application.app_context():
        db.session.remove()
        tables = list(reversed(db.metadata.sorted_tables))
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                return
            for table in tables:
                conn.execute(table.delete())
            has_sequences = conn.execute(text(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first()
            if has_sequences:
                conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    """An application context for the test; the database is emptied afterwards."""
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
def db_session(app_ctx: Flask) -> scoped_session[Session]:
    return db.session


@pytest.fixture
def client(app_ctx: Flask) -> FlaskClient:
    return app_ctx.test_client()


@pytest.fixture
def factory(app_ctx: Flask) -> Factory:
    return Factory()


@pytest.fixture
def make_app(app_ctx: Flask, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """`make_app(**settings)`: another portal (another server process, or one on S3) on
    the test's database, so on both backends; its rows are emptied with the test's."""
    made: list[Flask] = []

    def _make(**overrides: object) -> Flask:
        other = make_test_app(app_ctx.config["DATABASE_URL"], tmp_path, **overrides)
        made.append(other)
        return other

    yield _make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def login(client: FlaskClient, user: User, password: str = TEST_PASSWORD) -> TestResponse:
    """Sign in through the real form; returns the response."""
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 303, response.data[:500]
    return response


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[..., TestResponse]:
    def _login(user: User, password: str = TEST_PASSWORD) -> TestResponse:
        client.post("/logout")
        return login(client, user, password)

    return _login


# --- SQL statements counted -------------------------------------------------------------

@contextmanager
def count_queries(engine: Engine | None = None) -> Iterator[list[str]]:
    """The SQL statements run inside the block (every connection of the app's engine)."""
    statements: list[str] = []
    target = engine if engine is not None else db.engine

    def _count(conn: Connection, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(target, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", _count)


# --- real SMTP server --------------------------------------------------------------------

class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.refuse = False

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address.lower() in m["To"].lower()]


class _MailboxHandler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: SMTP, session: SMTPSession,  # noqa: N802
                          envelope: Envelope) -> str:
        if self.box.refuse:
            return "451 Try again later"
        assert isinstance(envelope.content, bytes)  # aiosmtpd's default: decode_data=False
        with self.box.lock:
            self.box.messages.append(
                message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int, Mailbox]]:
    """An aiosmtpd server on a free port; `mailbox.refuse = True` makes it answer 451."""
    box = Mailbox()
    port = services.free_port()
    controller = Controller(_MailboxHandler(box), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, box
    finally:
        controller.stop()


# --- real S3 endpoint -----------------------------------------------------------------

@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server over HTTP on a local port, one per test worker."""
    # Port 0: the OS picks a free port, with no window for another process to take it.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
