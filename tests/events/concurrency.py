"""A burst of registrations from several server processes at once (the test harness).

`run_burst` starts `processes` processes with the spawn method; each builds the portal with
`make_test_app` on the same database URL (a file for SQLite) and, once every process is
ready (a barrier), fires its share of registrations from `threads` threads, each with its
own application context, session and database connection. What a registration does is
the `register` function named by "module:function" (the portal's route, or a naive
version defined in a test): it gets (app, event_id, person) where person is
(alumnus_id, user_id, session_token).
"""

from __future__ import annotations

import importlib
import multiprocessing
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from portal.extensions import db
from tests.conftest import make_test_app

Person = tuple[int, int, str]


def signed_in_client(app: Any, person: Person) -> Any:
    """A test client holding the session a real sign-in would give (no argon2 per person)."""
    _alumnus_id, user_id, token = person
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:{token}"
        session["_fresh"] = True
        session["seen"] = int(time.time())
    return client


def _worker(url: str, tmp: str, event_id: int, people: list[Person], target: str,
            threads: int, barrier: Any, errors: Any) -> None:
    try:
        app = make_test_app(url, Path(tmp))
        module, _, name = target.partition(":")
        register = getattr(importlib.import_module(module), name)
        barrier.wait(timeout=120)

        def one(person: Person) -> None:
            try:
                register(app, event_id, person)
            except Exception:  # reported to the test, which fails on any
                errors.put(traceback.format_exc(limit=6))

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, people))
        with app.app_context():
            db.engine.dispose()
    except Exception:
        errors.put(traceback.format_exc(limit=8))


def run_burst(url: str, tmp: Path, event_id: int, people: list[Person], target: str, *,
              processes: int = 4, threads: int = 5) -> list[str]:
    """Run the burst; returns the errors (tracebacks) the workers reported."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    errors = ctx.Queue()
    shares = [people[i::processes] for i in range(processes)]
    workers = [ctx.Process(target=_worker, args=(url, str(tmp), event_id, share, target,
                                                   threads, barrier, errors))
               for share in shares]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=180)
    found = []
    while not errors.empty():
        found.append(errors.get())
    for w in workers:
        if w.exitcode != 0:
            found.append(f"worker exited with {w.exitcode}")
    return found
