"""`flask import-alumni FILE [--dry-run] [--mapping JSON]`: the import without a browser."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
from flask_babel import force_locale

from portal.alumni.importer import (
    ENCODINGS,
    TARGETS,
    ImportRefused,
    mapping_from_names,
    mapping_problems,
    max_bytes,
    parse_rows,
    read_table,
)
from portal.alumni.matching import run_import
from portal.transaction import discard, unit_of_work


@click.command("import-alumni")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report; change nothing.")
@click.option("--mapping", "mapping_json", default="",
              help='Columns to fields as JSON, e.g. \'{"Surname": "family_name", '
                   '"Remarks": ""}\' ("" ignores a column). Other columns are guessed.')
@click.option("--encoding", type=click.Choice(list(ENCODINGS)), default="auto",
              show_default=True, help="Encoding of a CSV file.")
def import_alumni(file: Path, dry_run: bool, mapping_json: str, encoding: str) -> None:
    """Import alumni records from a CSV or XLSX file (one transaction)."""
    with force_locale("en"):  # messages for the terminal; no request to choose a language
        _import(file, dry_run, mapping_json, encoding)


def _import(file: Path, dry_run: bool, mapping_json: str, encoding: str) -> None:
    if file.stat().st_size > max_bytes():
        raise click.ClickException(f"The file is larger than {max_bytes() // 2**20} MB.")
    try:
        named = json.loads(mapping_json) if mapping_json else {}
        if not isinstance(named, dict):
            raise ValueError
    except ValueError as exc:
        raise click.ClickException('--mapping must be a JSON object {"column": "field"}.') \
            from exc
    try:
        table = read_table(file.read_bytes(), encoding)
        mapping = mapping_from_names(table.headers, named)
    except ImportRefused as exc:
        raise click.ClickException(f"Refused, nothing imported: {exc.message}") from exc
    for header, target in zip(table.headers, mapping, strict=True):
        click.echo(f"  {header!r} -> {TARGETS[target] if target else '(ignored)'}")
    if problems := mapping_problems(mapping):
        raise click.ClickException(" ".join(str(p) for p in problems))
    rows, errors = parse_rows(table, mapping, date.today())
    with unit_of_work():
        report = run_import(rows, errors, actor=None, filename=file.name)
        summary = ", ".join(f"{n} {k}" for k, n in report.summary().items())
        if dry_run:
            discard()
    for error in report.errors:
        column = f" [{error.column}]" if error.column else ""
        click.echo(f"row {error.row}{column}: {error.message}", err=True)
    if dry_run:
        click.echo(f"Dry run, nothing changed: {summary}.")
    else:
        click.echo(f"Imported: {summary}.")
