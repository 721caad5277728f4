"""`flask jobs tick` (cron / systemd timer, every minute) and `flask jobs worker` (RQ)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from redis import Redis
from rq import Queue, Worker

from portal import jobs

jobs_cli = AppGroup("jobs", help="Background work.")


@jobs_cli.command("tick")
def tick() -> None:
    """Run every periodic job once (safe to run from several machines at once)."""
    for name, result, ok in jobs.tick():
        click.echo(f"{name}: {result}", err=not ok)


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool) -> None:
    """Serve the RQ queue (needs PORTAL_REDIS_URL)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("PORTAL_REDIS_URL is not set: jobs run in-process.")
    jobs.set_worker_app(current_app._get_current_object())  # type: ignore[attr-defined]
    conn = Redis.from_url(url)
    Worker([Queue("portal", connection=conn)], connection=conn).work(burst=burst)
