"""Work done outside the request: mail, reminders, sweeps, purges.

`enqueue("portal.notify.jobs.send_message", 42)` schedules a job for after the current
transaction commits (a rolled-back request schedules nothing). With PORTAL_REDIS_URL set the
job goes to an RQ queue served by `flask jobs worker` on any number of machines; without it
the same function runs in this process right after the commit. Jobs are named by dotted
path so a worker imports them without pickling code, and they take plain ids.

Periodic work is one registry, `PERIODIC`: `tick()` runs every entry once (`flask jobs
tick` from cron or a systemd timer in production; the embedded scheduler thread of
`portal.jobs.scheduler` while `flask run` serves a laptop).
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from flask import Flask, Response, current_app, g, has_app_context, has_request_context
from redis import Redis
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.transaction import run_unit

log = logging.getLogger(__name__)
_PENDING = "portal_pending_jobs"


def enqueue(path: str, *args: Any) -> None:
    """Schedule job `path(*args)` to run once the current transaction commits."""
    db.session().info.setdefault(_PENDING, []).append((path, args))


def _after_commit(session: Session) -> None:
    jobs = session.info.pop(_PENDING, [])
    if not jobs:
        return
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        queue = _queue()
        for path, args in jobs:
            queue.enqueue("portal.jobs.run", path, *args)
    elif has_request_context():
        # Run after the view has returned, outside this commit.
        g.setdefault("portal_ready_jobs", []).extend(jobs)
    else:
        current_app.extensions.setdefault("portal_ready_jobs", []).extend(jobs)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def run_ready() -> int:
    """Run in-process jobs whose transaction has committed. Returns how many ran."""
    # Work committed inside a request context made up outside a request (jobs that
    # build links with url_for) waits in `g`, which the application context shares.
    jobs = g.pop("portal_ready_jobs", []) if has_app_context() else []
    if not has_request_context():
        jobs += current_app.extensions.pop("portal_ready_jobs", [])
    for path, args in jobs:
        try:
            call(path, *args)
        except Exception:  # a failed job must not break the request it followed
            log.exception("job %s failed; periodic work will retry what needs it", path)
    return len(jobs)


def call(path: str, *args: object) -> object:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)(*args)


_WORKER_APP: list[Flask] = []


def set_worker_app(app: Flask) -> None:
    """The application RQ jobs run in (set by `flask jobs worker`)."""
    _WORKER_APP[:] = [app]


def run(path: str, *args: object) -> object:
    """Entry point of RQ jobs: run `path` inside an application context."""
    if has_app_context():
        return call(path, *args)
    if not _WORKER_APP:
        raise RuntimeError("RQ jobs of the portal are served by `flask jobs worker`")
    with _WORKER_APP[0].app_context():
        return call(path, *args)


def _queue() -> Queue:
    conn = current_app.extensions.get("portal_redis")
    if conn is None:
        conn = Redis.from_url(current_app.config["REDIS_URL"])
        current_app.extensions["portal_redis"] = conn
    return Queue("portal", connection=conn)


# Periodic work: (name, dotted path). `tick()` runs all of them every minute. Each entry
# runs as a unit of work (committed when it returns, rolled back if it raises); entries
# that work in several steps (a mail per message) run each step in a unit of their own.
PERIODIC: list[tuple[str, str]] = [
    ("mail", "portal.notify.jobs.send_due"),
]


def register_periodic(name: str, path: str) -> None:
    if (name, path) not in PERIODIC:
        PERIODIC.append((name, path))


def tick() -> list[tuple[str, str, bool]]:
    """Run every periodic job once: [(name, what it reported, succeeded)]. One failing job
    does not stop the others; safe to run from several machines at once."""
    results: list[tuple[str, str, bool]] = []
    for name, path in list(PERIODIC):
        try:
            result = run_unit(call, path)
        except Exception as exc:
            log.exception("periodic job %s failed", name)
            results.append((name, f"failed: {exc}", False))
            continue
        run_ready()
        results.append((name, "done" if result is None else str(result), True))
    return results


def init_app(app: Flask) -> None:
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_soft_rollback", lambda s, prev: _after_rollback(s))

    @app.after_request
    def _run_jobs(response: Response) -> Response:
        run_ready()
        return response
