"""Flask commands: demo data, reminders, accounts, and each area's own groups."""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import func, select


@click.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has accounts.")
def demo_data(if_empty: bool) -> None:
    """Load the demo accounts and records (refused in production)."""
    from portal import demo, jobs
    from portal.accounts.models import User
    from portal.extensions import db

    if current_app.config["PRODUCTION"]:
        raise click.ClickException("Refused: PORTAL_PRODUCTION is set; demo data is for trials.")
    if db.session.scalar(select(func.count(User.id))):
        if if_empty:
            click.echo("The database has accounts already; demo data not loaded.")
            return
        raise click.ClickException("The database is not empty; demo data goes into a new one.")
    demo.load()
    db.session.commit()
    jobs.run_ready()
    click.echo("Demo data loaded. Every demo account uses the password demo-pass-2026.")


@click.command("send-reminders")
def send_reminders() -> None:
    """Send the reminders that are due (each at most once)."""
    from portal import jobs

    # The same entries the every-minute tick runs: one registry of periodic work.
    for name, path in jobs.PERIODIC:
        if name.endswith("-reminders"):
            click.echo(f"{name}: {jobs.call(path)}")
            jobs.run_ready()


@click.command("create-staff")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.password_option()
def create_staff(email: str, name: str, password: str) -> None:
    """Create the first staff account of a new installation."""
    from portal.accounts import services
    from portal.accounts.models import Role, User
    from portal.audit.services import record
    from portal.extensions import db

    if services.by_email(email):
        raise click.ClickException("An account with this e-mail exists.")
    user = User(email=services.normalize_email(email), name=name)
    services.set_password(user, password)
    services.grant(user, Role.STAFF)
    db.session.add(user)
    db.session.flush()
    record("account.created_from_cli", actor_label="cli", object_type="user", object_id=user.id)
    db.session.commit()
    click.echo(f"Staff account {user.email} created.")


def register(app: Flask) -> None:
    from portal.jobs.cli import jobs_cli

    app.cli.add_command(demo_data)
    app.cli.add_command(send_reminders)
    app.cli.add_command(create_staff)
    app.cli.add_command(jobs_cli)
    from portal.alumni.cli import import_alumni
    app.cli.add_command(import_alumni)
    from portal.intake.cli import purge_sensitive_command
    app.cli.add_command(purge_sensitive_command)
    try:
        from portal.storage.cli import storage_cli
    except ImportError:  # pragma: no cover - storage package is always present
        return
    app.cli.add_command(storage_cli)
