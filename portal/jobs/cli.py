"""`flask jobs tick` (cron / systemd timer, every minute) and `flask jobs worker` (RQ)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from portal import jobs

jobs_cli = AppGroup("jobs", help="Background work.")


@jobs_cli.command("tick")
def tick() -> None:
    """Run every periodic job once (safe to run from several machines at once)."""
    for name, path in jobs.PERIODIC:
        try:
            result = jobs.call(path)
        except Exception as exc:  # one failing job must not stop the others
            current_app.logger.exception("periodic job %s failed", name)
            click.echo(f"{name}: failed: {exc}", err=True)
            continue
        jobs.run_ready()
        click.echo(f"{name}: {result if result is not None else 'done'}")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool) -> None:
    """Serve the RQ queue (needs PORTAL_REDIS_URL)."""
    from redis import Redis
    from rq import Queue, Worker

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("PORTAL_REDIS_URL is not set: jobs run in-process.")
    conn = Redis.from_url(url)
    Worker([Queue("portal", connection=conn)], connection=conn).work(burst=burst)
