"""`flask purge-sensitive`: delete sensitive documents of cycles past retention."""

from __future__ import annotations

import click

from portal.intake.purge import purge_sensitive


@click.command("purge-sensitive")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
def purge_sensitive_command(dry_run: bool) -> None:
    """Delete the files of sensitive documents (passport, health...) of every cycle whose
    retention period has ended, keeping a record that they existed."""
    report = purge_sensitive(dry_run=dry_run)
    if not report.cycles:
        click.echo("No cycle is past its retention period.")
        return
    click.echo("Cycles past retention: " + ", ".join(report.cycles))
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {report.purged} sensitive file(s), {report.bytes} bytes.")
    cleared = "would clear" if dry_run else "cleared"
    click.echo(f"{cleared} the network addresses and session hashes of "
               f"{report.signals} confirmation(s).")
    for document_id, error in report.failed:
        click.echo(f"FAILED document {document_id}: {error}", err=True)
    if report.failed:
        raise click.exceptions.Exit(1)

