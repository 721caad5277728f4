"""One transaction per unit of work, committed in one place.

Requests: `PortalFlask.dispatch_request` runs the view and commits once when it returns;
any exception (a refusal from a service, an abort, a bug, a failed commit) rolls back and
reaches the error handlers, which turn it into an answer. Routes and services never
commit or roll back. This wraps the view itself, not a teardown hook, because jobs run in
`after_request` once the commit has happened, and a commit that fails must still become
an error answer rather than a 200 for work that was lost.

Outside requests (CLI commands, jobs, the periodic tick) `unit_of_work()` does the same
for a block, and `run_unit(fn, ...)` for a call.

Some records must outlive a rollback: the audit row of a refused action, a failed
sign-in. `keep(row)` sets them aside; they are written in a transaction of their own
right after the main one ends, whichever way it ended. (Not in a second connection while
the main transaction is open: on SQLite every transaction holds the write lock from
BEGIN IMMEDIATE, so a second writer would wait for the first.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import Flask
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal.errors import Conflict, PortalError
from portal.extensions import db

T = TypeVar("T")
_KEPT = "portal_kept_rows"
_DISCARD = "portal_discard"


def keep(row: object) -> None:
    """Write `row` in its own transaction once the current one ends (commit or rollback)."""
    db.session().info.setdefault(_KEPT, []).append(row)


def discard() -> None:
    """End the current unit of work with a rollback instead of the commit, although it
    succeeds: a dry run (an import preview) shows what would happen and keeps nothing.
    Rows set aside with `keep()` are still written."""
    db.session().info[_DISCARD] = True


def _transaction(work: Callable[[], T]) -> T:
    """Run `work`, then commit; roll back on any exception. The only commit of the portal."""
    try:
        result = work()
        if db.session().info.pop(_DISCARD, False):
            db.session.rollback()
            return result
        try:
            db.session.commit()
        except IntegrityError as exc:
            # A UNIQUE or CHECK constraint caught two people doing the same thing at once
            # (double submit from two tabs, the same registration twice): the rules in
            # Python already ran, so this is a race the database settled.
            raise Conflict(_l("Someone else changed this at the same moment. Please "
                              "reload the page and try again."), code="race") from exc
    except BaseException:
        db.session().info.pop(_DISCARD, None)
        db.session.rollback()
        raise
    finally:
        _write_kept()
    return result


def _write_kept() -> None:
    session = db.session()
    rows = session.info.pop(_KEPT, [])
    if not rows:
        return
    try:
        session.add_all(rows)
        session.commit()
    except Exception:
        session.rollback()
        raise


@contextmanager
def unit_of_work() -> Iterator[None]:
    """A block of work outside a request in one transaction (CLI commands, jobs, tick)."""
    try:
        yield
    except BaseException:
        db.session().info.pop(_DISCARD, None)
        db.session.rollback()
        _write_kept()
        raise
    _transaction(lambda: None)  # commit what the block did


@contextmanager
def attempt() -> Iterator[None]:
    """A step a route may see refused without keeping half of it.

    A PortalError raised inside rolls the session back to where the step began (a
    SAVEPOINT) and propagates, so a route can catch it and re-render its form with the
    message while nothing the refused step wrote is committed with the rest of the
    request. Routes that let refusals reach the handler do not need this: the handler's
    rollback undoes everything.
    """
    step = db.session.begin_nested()
    try:
        yield
    except PortalError:
        if step.is_active:
            step.rollback()
        raise
    if step.is_active:
        step.commit()  # releases the savepoint; the request's own commit comes later


def run_unit(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Call `fn(*args, **kwargs)` as one unit of work."""
    return _transaction(lambda: fn(*args, **kwargs))


class PortalFlask(Flask):
    """Flask with the portal's commit point around every view."""

    def dispatch_request(self) -> ResponseReturnValue:
        return _transaction(super().dispatch_request)


def init_app(app: Flask) -> None:
    @app.teardown_request
    def _kept_rows_of_short_circuited_requests(_exc: BaseException | None) -> None:
        # A before_request handler that answered (or failed) skips the view and with it
        # the commit point; rows it kept are still written.
        if db.session().info.get(_KEPT):
            db.session.rollback()
            _write_kept()
