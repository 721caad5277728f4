"""The embedded scheduler: periodic work on a laptop without cron.

In the embedded mode (no PORTAL_REDIS_URL, not PORTAL_PRODUCTION) the app started by
`flask run` (`make run`) starts one daemon thread that runs a round of periodic work once
a minute: exactly what `flask jobs tick` does, each job in units of work of its own. So
reminders, invitations, mail retries and purges fire while the portal is tried out.
Never in tests, under gunicorn or in any other command; production runs `flask jobs tick`
from cron or a systemd timer (see the README). PORTAL_EMBEDDED_SCHEDULER=0 turns it off.
"""

from __future__ import annotations

import logging
import threading

import click
from flask import Flask
from flask.cli import get_debug_flag
from werkzeug.serving import is_running_from_reloader

from portal import jobs

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60
_STARTED = "portal_scheduler"


def served_by_flask_run() -> bool:
    """This process is the one `flask run` serves requests from (with the reloader: the
    child that serves, not the parent that watches files)."""
    context = click.get_current_context(silent=True)
    if context is None or context.info_name != "run":
        return False
    reload = context.params.get("reload")
    if reload is None:
        reload = get_debug_flag()
    return not reload or is_running_from_reloader()


def should_start(app: Flask, *, served: bool | None = None) -> bool:
    """Start the thread? Only in the embedded mode, when `flask run` serves this app."""
    config = app.config
    if app.testing or config["PRODUCTION"] or config["REDIS_URL"]:
        return False
    if not config["EMBEDDED_SCHEDULER"]:
        return False
    return served_by_flask_run() if served is None else served


def run_round(app: Flask) -> list[tuple[str, str, bool]]:
    """One round: every periodic job once, as `flask jobs tick` runs them."""
    with app.app_context():
        return jobs.tick()


def _loop(app: Flask, stop: threading.Event) -> None:
    while not stop.wait(INTERVAL_SECONDS):
        try:
            for name, result, ok in run_round(app):
                if not ok:
                    log.warning("periodic job %s: %s", name, result)
        except Exception:  # the thread must outlive a bad round (database restarting...)
            log.exception("periodic round failed")


def start(app: Flask) -> threading.Event | None:
    """Start the scheduler thread if `should_start`; returns the event that stops it."""
    if not should_start(app) or _STARTED in app.extensions:
        return None
    stop = threading.Event()
    thread = threading.Thread(target=_loop, args=(app, stop), name="portal-scheduler",
                              daemon=True)
    app.extensions[_STARTED] = stop
    thread.start()
    log.info("embedded scheduler: periodic work runs every %d s", INTERVAL_SECONDS)
    return stop
