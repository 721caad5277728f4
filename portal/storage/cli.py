"""`flask storage verify` and `flask storage sweep`."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from portal.storage.maintenance import sweep, verify
from portal.transaction import run_unit

storage_cli = AppGroup("storage", help="Check and clean the file storage.")


@storage_cli.command("verify")
def verify_command() -> None:
    """Check that every stored file exists with the size and hash on record."""
    result = run_unit(verify)
    for problem in result:
        click.echo(f"PROBLEM {problem}")
    click.echo(f"{result.checked} files verified, {len(result)} with problems.")
    if result:
        raise click.exceptions.Exit(1)


@storage_cli.command("sweep")
@click.option(
    "--grace-hours", type=click.IntRange(min=1), default=24, show_default=True,
    help="Leave alone anything younger than this (uploads in flight).",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def sweep_command(grace_hours: int, dry_run: bool) -> None:
    """Remove stored files and unfinished uploads that nothing refers to."""
    report = sweep(timedelta(hours=grace_hours), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for key in report.deleted_keys:
        click.echo(f"{verb} orphan file {key}")
    for key, upload_id in report.aborted_uploads:
        click.echo(f"{verb} unfinished upload {upload_id} of {key}")
    for row_id in report.removed_pending:
        click.echo(f"{verb} pending upload record {row_id}")
    for name in report.temp_files:
        click.echo(f"{verb} temporary file {name}")
    click.echo(f"Sweep done: {report.total} item(s) {verb}.")
