"""A burst of 500 registrations for 50 seats against gunicorn (4 workers) on PostgreSQL.

Prints seats sold (must be 50), the waitlist check, latency (median, p95, max) and errors
(must be 0). Creates the database `portal_bench_events` and drops it afterwards.

    .venv/bin/python bench/events_burst.py [--people 500] [--seats 50] [--clients 64]

The 500 alumni are signed in without 500 argon2 logins: their session cookies are made
with the app's own test client (same secret key as the server), and each fetches its
CSRF token from the event page, exactly as a browser would hold them. Then every client
thread POSTs /events/<id>/register at once over its own HTTP connection.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

from bench.common import (  # noqa: E402
    PG_ADMIN_URL,
    ROOT,
    VENV_BIN,
    Server,
    base_settings,
    free_port,
    make_app,
    percentile,
    portal_env,
    workdir,
)
from portal.accounts.models import Role, User, UserRole  # noqa: E402
from portal.alumni.models import Alumnus  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.events.lifecycle import SEAT_STATES, WAITLIST_STATES  # noqa: E402
from portal.events.models import Event, Registration  # noqa: E402
from portal.extensions import db  # noqa: E402
from tests.services import ensure_postgres  # noqa: E402

DB_NAME = "portal_bench_events"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _admin(sql: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _world(app, people: int, seats: int) -> tuple[int, list[tuple[int, str]]]:
    """The event and the alumni accounts (bulk inserts; nobody needs a password)."""

    with app.app_context():
        db.create_all()
        start = utcnow() + timedelta(days=14)
        event = Event(title="Burst lecture", kind="lecture", city="Bangkok", country="TH",
                      venue_timezone="Asia/Bangkok", mode="in_person", starts_at=start,
                      ends_at=start + timedelta(hours=3), capacity=seats, seats_taken=0,
                      waitlist_last=0, status="published", eligible_countries=[],
                      eligible_specialties=[])
        db.session.add(event)
        db.session.flush()
        rows = [{"email": f"burst{i}@alumni.example.org", "name": f"Burst {i}",
                 "language": "en", "session_token": secrets.token_urlsafe(16)}
                for i in range(people)]
        ids = list(db.session.scalars(
            insert(User).returning(User.id, sort_by_parameter_order=True), rows))
        db.session.execute(insert(UserRole), [{"user_id": u, "role": str(Role.ALUMNUS)}
                                              for u in ids])
        db.session.execute(insert(Alumnus), [
            {"user_id": u, "family_name": f"Burst{i}", "given_names": "A", "country": "TH",
             "specialty": "cardiology", "email": f"burst{i}@alumni.example.org"}
            for i, u in enumerate(ids)])
        db.session.commit()
        return event.id, [(u, r["session_token"]) for u, r in zip(ids, rows, strict=True)]


def _signed_in(app, event_id: int, users: list[tuple[int, str]]) -> list[tuple[str, str]]:
    """(session cookie, CSRF token) per alumnus, made by the app itself."""
    found = []
    for user_id, token in users:
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = f"{user_id}:{token}"
            session["_fresh"] = True
            session["seen"] = int(time.time())
        page = client.get(f"/events/{event_id}").get_data(as_text=True)
        csrf = CSRF.search(page[page.index("/register"):]).group(1)
        found.append((client.get_cookie("portal_session").value, csrf))
    return found


def _post(port: int, event_id: int, cookie: str, csrf: str) -> tuple[float, int | str]:
    body = urlencode({"csrf_token": csrf})
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("POST", f"/events/{event_id}/register", body=body, headers={
            "Cookie": f"portal_session={cookie}",
            "Content-Type": "application/x-www-form-urlencoded"})
        status = conn.getresponse().status
        conn.close()
    except Exception as exc:  # counted as an error
        return time.perf_counter() - started, type(exc).__name__
    return time.perf_counter() - started, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--seats", type=int, default=50)
    parser.add_argument("--clients", type=int, default=64, help="HTTP client threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    args = parser.parse_args()

    ensure_postgres()
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}"
    _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{DB_NAME}"')
    app = None
    try:
        with workdir("events") as tmp:
            settings = base_settings(url, tmp)
            app = make_app(settings)
            t0 = time.monotonic()
            event_id, users = _world(app, args.people, args.seats)
            sessions = _signed_in(app, event_id, users)
            print(f"set-up: {args.people} alumni signed in, 1 event of {args.seats} seats "
                  f"({time.monotonic() - t0:.1f} s)")
            port = free_port()
            server_args = [str(VENV_BIN / "gunicorn"), "-w", str(args.workers), "-k", "sync",
                           "--timeout", "120", "--backlog", "2048", "-b", f"127.0.0.1:{port}",
                           "--chdir", str(ROOT), "wsgi:app"]
            with Server(server_args, port, env=portal_env(settings), log=tmp / "gunicorn.log"):
                for _ in range(args.workers * 3):  # every worker has built the app
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    c.request("GET", "/healthz")
                    c.getresponse().read()
                    c.close()
                go = threading.Event()

                def start(item: tuple[str, str]) -> tuple[float, int | str]:
                    go.wait()  # the first wave leaves together
                    return _post(port, event_id, *item)

                with ThreadPoolExecutor(args.clients) as pool:
                    futures = [pool.submit(start, item) for item in sessions]
                    time.sleep(0.5)  # every client thread is waiting at the gate
                    burst_started = time.perf_counter()
                    go.set()
                    results = [f.result() for f in futures]
                wall = time.perf_counter() - burst_started
            _report(app, event_id, args, results, wall)
    finally:
        if app is not None:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def _report(app, event_id: int, args, results, wall: float) -> None:
    latencies = [lat * 1000 for lat, _ in results]
    errors = [status for _, status in results if status != 303]
    with app.app_context():
        event = db.session.get(Event, event_id)
        by_status = dict(db.session.execute(
            select(Registration.status, func.count()).where(Registration.event_id == event_id)
            .group_by(Registration.status)).all())
        line = db.session.scalars(
            select(Registration.waitlist_position).where(
                Registration.event_id == event_id, Registration.status.in_(WAITLIST_STATES))
            .order_by(Registration.id)).all()
        sold = sum(n for status, n in by_status.items() if status in SEAT_STATES)
        waitlist_ok = line == list(range(1, len(line) + 1))
        seats_taken = event.seats_taken
    load = os.getloadavg()[0]
    print(f"burst: {args.people} POST /events/{event_id}/register from {args.clients} client "
          f"threads against gunicorn -w {args.workers} (sync) on PostgreSQL")
    print(f"seats sold: {sold} (must be {args.seats}); counter {seats_taken}; "
          f"waitlisted: {len(line)}; waitlist places 1..{len(line)} "
          f"in acceptance order: {'yes' if waitlist_ok else 'NO'}")
    print(f"latency: median {percentile(latencies, 50):.0f} ms, p95 "
          f"{percentile(latencies, 95):.0f} ms, max {max(latencies):.0f} ms")
    print(f"errors: {len(errors)} (must be 0){' ' + str(errors[:5]) if errors else ''}")
    print(f"throughput: {len(results) / wall:.0f} registrations/s ({wall:.1f} s wall); "
          f"load average {load:.2f} on {os.cpu_count()} CPUs")
    if sold != args.seats or errors or not waitlist_ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
