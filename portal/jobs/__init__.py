"""Work done outside the request: mail, reminders, sweeps, purges.

`enqueue("portal.notify.jobs.send_message", 42)` schedules a job for after the current
transaction commits (a rolled-back request schedules nothing). With PORTAL_REDIS_URL set the
job goes to an RQ queue served by `flask jobs worker` on any number of machines; without it
the same function runs in this process right after the commit. Jobs are named by dotted
path so a worker imports them without pickling code, and they take plain ids.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from flask import current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_PENDING = "portal_pending_jobs"


def enqueue(path: str, *args: Any) -> None:
    """Schedule job `path(*args)` to run once the current transaction commits."""
    from portal.extensions import db

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
    if has_request_context():
        jobs = g.pop("portal_ready_jobs", [])
    else:
        jobs = current_app.extensions.pop("portal_ready_jobs", [])
    for path, args in jobs:
        try:
            call(path, *args)
        except Exception:  # a failed job must not break the request it followed
            log.exception("job %s failed; periodic work will retry what needs it", path)
    return len(jobs)


def call(path: str, *args: Any) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)(*args)


_worker_app = None


def run(path: str, *args: Any) -> Any:
    """Entry point of RQ jobs: run `path` inside an application context."""
    global _worker_app
    from flask import has_app_context

    if has_app_context():
        return call(path, *args)
    if _worker_app is None:
        from portal import create_app

        _worker_app = create_app()
    with _worker_app.app_context():
        return call(path, *args)


def _queue():
    from redis import Redis
    from rq import Queue

    conn = current_app.extensions.get("portal_redis")
    if conn is None:
        conn = Redis.from_url(current_app.config["REDIS_URL"])
        current_app.extensions["portal_redis"] = conn
    return Queue("portal", connection=conn)


# Periodic work: (name, dotted path). `flask jobs tick` runs all of them every minute.
PERIODIC: list[tuple[str, str]] = [
    ("mail", "portal.notify.jobs.send_due"),
]


def register_periodic(name: str, path: str) -> None:
    if (name, path) not in PERIODIC:
        PERIODIC.append((name, path))


def init_app(app) -> None:  # noqa: ANN001
    from portal.extensions import db

    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_soft_rollback", lambda s, prev: _after_rollback(s))

    @app.after_request
    def _run_jobs(response):  # noqa: ANN001, ANN202
        run_ready()
        return response
