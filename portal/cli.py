"""Flask commands: demo data, reminders, accounts, and each area's own groups.

Every command runs its work through portal.transaction (`unit_of_work` / `run_unit`): it
commits once when the work succeeds and rolls back when it fails.
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from portal import demo, jobs
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.alumni.cli import import_alumni
from portal.extensions import db
from portal.intake.cli import purge_sensitive_command
from portal.jobs.cli import jobs_cli
from portal.storage.cli import storage_cli
from portal.transaction import run_unit, unit_of_work


@click.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has accounts.")
def demo_data(if_empty: bool) -> None:
    """Load the demo accounts and records (refused in production)."""
    if current_app.config["PRODUCTION"]:
        raise click.ClickException("Refused: PORTAL_PRODUCTION is set; demo data is for trials.")
    with unit_of_work():
        if db.session.scalar(select(func.count(User.id))):
            if if_empty:
                click.echo("The database has accounts already; demo data not loaded.")
                return
            raise click.ClickException(
                "The database is not empty; demo data goes into a new one.")
        demo.load()
    jobs.run_ready()
    click.echo("Demo data loaded. Every demo account uses the password demo-pass-2026.")


@click.command("send-reminders")
def send_reminders() -> None:
    """Send the reminders that are due (each at most once)."""
    # The same entries the every-minute tick runs: one registry of periodic work.
    for name, path in jobs.PERIODIC:
        if name.endswith("-reminders"):
            click.echo(f"{name}: {run_unit(jobs.call, path)}")
            jobs.run_ready()


@click.command("create-staff")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.password_option()
def create_staff(email: str, name: str, password: str) -> None:
    """Create the first staff account of a new installation."""
    try:
        user = run_unit(accounts.create_staff, email=email, name=name, password=password)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc.message)) from exc
    click.echo(f"Staff account {user.email} created.")


def register(app: Flask) -> None:
    app.cli.add_command(demo_data)
    app.cli.add_command(send_reminders)
    app.cli.add_command(create_staff)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(import_alumni)
    app.cli.add_command(purge_sensitive_command)
    app.cli.add_command(storage_cli)
