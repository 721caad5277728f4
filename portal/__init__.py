"""The portal's application factory."""

from __future__ import annotations

import importlib
import mimetypes
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from flask.globals import request_ctx
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import ConnectionPoolEntry
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import cli, i18n, jobs, security, transaction
from portal import config as settings
from portal import extensions as ext  # not `db` here: portal.db is a module
from portal.auth.twofactor_routes import enforce_staff_2fa
from portal.errors import PortalError
from portal.jobs import scheduler
from portal.registry import nav_for
from portal.transaction import PortalFlask
from portal.web import (
    IdConverter,
    enforce_body_limit,
    external_url,
    handle_portal_error,
    handle_too_large,
)
from portal.wsgi_input import BufferedInput

AREAS = [
    # (module with a blueprint `bp`); later areas add themselves here.
    "portal.dashboard",
    "portal.auth",
    "portal.accounts",
    "portal.institutions",
    "portal.admin",
    "portal.alumni",
    "portal.intake",
    "portal.cycles",
    "portal.nominations",
    "portal.review",
    "portal.events",
]

MODEL_MODULES = [
    "portal.accounts.models",
    "portal.institutions.models",
    "portal.audit.models",
    "portal.notify.models",
    "portal.tokens",
    "portal.storage.models",
    "portal.cycles.models",
    "portal.nominations.models",
    "portal.alumni.models",
    "portal.threads.models",
    "portal.review.models",
    "portal.events.models",
]


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    # pdf.js ships as ES modules; browsers refuse modules served with another type.
    mimetypes.add_type("text/javascript", ".mjs")
    app = PortalFlask(
        __name__,
        template_folder=str(settings.PROJECT_ROOT / "templates"),
        static_folder=str(settings.PROJECT_ROOT / "static"),
        instance_path=str(settings.PROJECT_ROOT / "instance"),
    )
    values = settings.load(overrides)
    app.config.update(values)
    app.config.update(settings.flask_config(values))
    app.config.update({k: v for k, v in (overrides or {}).items() if k not in values})
    app.secret_key = settings.secret_key(values, Path(app.instance_path))
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.config["DATABASE_URL"].removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True)

    app.wsgi_app = BufferedInput(app.wsgi_app)  # type: ignore[method-assign]
    if values["PROXY_FIX"]:
        n = values["PROXY_FIX"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["external_url"] = external_url  # links on PORTAL_BASE_URL
    # Before any route exists: every `<int:...>` of every area is bounded (portal.web).
    app.url_map.converters["int"] = IdConverter
    _init_extensions(app)
    _register_areas(app)
    _register_errors(app)
    cli.register(app)
    scheduler.start(app)  # the embedded mode's periodic work, under `flask run` only
    return app


def _navigation() -> dict[str, Any]:
    return {"nav_links": nav_for(current_user)}


def _import_models() -> None:
    """Every model module, so metadata (and Alembic) sees all tables."""
    for module in MODEL_MODULES:
        importlib.import_module(module)


def _init_extensions(app: Flask) -> None:
    _import_models()
    # First of all: nothing (CSRF, forms, rate-limit keys) reads a body over its limit.
    app.before_request(enforce_body_limit)
    ext.db.init_app(app)
    ext.migrate.init_app(app, ext.db, directory=str(settings.PROJECT_ROOT / "migrations"),
                     render_as_batch=True, compare_type=True)
    ext.csrf.init_app(app)
    ext.htmx.init_app(app)
    ext.limiter.init_app(app)
    ext.babel.init_app(app, locale_selector=i18n.select_locale,
                   timezone_selector=i18n.select_timezone)
    ext.login_manager.init_app(app)
    ext.login_manager.login_view = "auth.login"
    ext.login_manager.login_message = None  # the login page says why on its own
    ext.login_manager.session_protection = None  # sessions end by token rotation instead
    security.init_app(app)
    transaction.init_app(app)
    i18n.init_app(app)
    jobs.init_app(app)
    app.before_request(enforce_staff_2fa)
    app.context_processor(_navigation)


def _register_areas(app: Flask) -> None:
    """Every area's view modules first, then the blueprints: a higher area may add views
    to a lower area's blueprint (the staff pages of people, on `accounts`)."""
    areas = [importlib.import_module(name) for name in AREAS]
    for area in areas:
        for views in getattr(area, "VIEWS", []):
            importlib.import_module(f"{area.__name__}.{views}")
    for area in areas:
        app.register_blueprint(area.bp)


def _page(template: str, status: int) -> Callable[[HTTPException], ResponseReturnValue]:
    def handler(error: HTTPException) -> ResponseReturnValue:
        if request_ctx.url_adapter is None:
            # Refused before routing (a Host not in TRUSTED_HOSTS): pages cannot build
            # links, so answer with the plain error.
            return error.get_response()
        return render_template(template), status
    return handler


def _register_errors(app: Flask) -> None:
    for status in (400, 403, 404, 405, 410, 500):
        app.register_error_handler(status, _page(f"errors/{status}.html", status))
    app.register_error_handler(RequestEntityTooLarge, handle_too_large)
    app.register_error_handler(CSRFError, _page("errors/csrf.html", 400))
    app.register_error_handler(PortalError, handle_portal_error)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: object, _record: ConnectionPoolEntry) -> None:
    """WAL and foreign keys on SQLite; busy_timeout so writers queue instead of failing.

    The driver's own transaction handling is switched off so that `_sqlite_begin` decides
    how each transaction starts.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: Connection) -> None:
    """On SQLite every transaction takes the write lock at BEGIN (BEGIN IMMEDIATE).

    A deferred transaction that has read and then writes fails at once with "database is
    locked" when another writer committed in between (WAL snapshots cannot be upgraded),
    and reading pages write too (every document download is logged). IMMEDIATE makes
    transactions queue for up to busy_timeout instead, which keeps read-then-write rules
    (seats, quotas) correct. SQLite is the embedded single-machine mode, where this
    costs little; production runs on PostgreSQL.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
