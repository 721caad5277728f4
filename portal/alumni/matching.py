"""Applying parsed import rows: find the person, then create, update or leave alone.

Matching: the e-mail address first; else family name + birth date + cycle year (case and
spacing do not count). A row without a birth date matches a record without one only when
the given names agree too, so two "Nguyen"s of one year are not taken for one person.

`run_import` always writes (flushes); the caller commits, or rolls back for a dry run, so
the preview shows exactly what the import will do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from portal.accounts.models import User
from portal.alumni.importer import ParsedRow, RowError
from portal.alumni.models import Alumnus, name_key
from portal.alumni.services import PROFILE_FIELDS, resolve
from portal.audit.services import record
from portal.extensions import db

CHUNK = 500
SAMPLE = 200  # outcomes kept for the preview table
NAME_FIELDS = frozenset({"family_name", "given_names", "native_name"})


@dataclass
class Outcome:
    row: int
    action: str  # created, updated, unchanged
    name: str
    alumnus_id: int | None = None
    fields: list[str] = field(default_factory=list)


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # rows with errors
    errors: list[RowError] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "skipped": self.skipped}


def _key(values: dict[str, Any] | Alumnus) -> tuple:
    get = values.get if isinstance(values, dict) else lambda k: getattr(values, k)
    dob = get("date_of_birth")
    if dob is not None:
        return ("dob", name_key(get("family_name")), dob, get("cycle_year"))
    return ("nodob", name_key(get("family_name")), name_key(get("given_names")),
            get("cycle_year"))


class Index:
    """Existing records that rows may match, loaded in a few queries, plus new ones."""

    def __init__(self, rows: list[ParsedRow]) -> None:
        self.by_email: dict[str, list[Alumnus]] = defaultdict(list)
        self.by_key: dict[tuple, list[Alumnus]] = defaultdict(list)
        emails = sorted({r.values["email"] for r in rows if r.values.get("email")})
        names = sorted({name_key(r.values["family_name"]) for r in rows})
        for chunk_emails, chunk_names in _chunks(emails, names):
            for alumnus in db.session.scalars(select(Alumnus).where(or_(
                    Alumnus.email.in_(chunk_emails), Alumnus.name_key.in_(chunk_names)))):
                self.add(alumnus)

    def add(self, alumnus: Alumnus) -> None:
        if alumnus.email and alumnus not in self.by_email[alumnus.email]:
            self.by_email[alumnus.email].append(alumnus)
        key = _key(alumnus)
        if alumnus not in self.by_key[key]:
            self.by_key[key].append(alumnus)

    def find(self, values: dict[str, Any]) -> list[Alumnus]:
        """Surviving records this row is about (none, one, or an ambiguous several)."""
        found = self.by_email.get(values.get("email") or "", [])
        if not found:
            found = self.by_key.get(_key(values), [])
        survivors: dict[int, Alumnus] = {}
        for alumnus in found:
            alive = resolve(alumnus) if alumnus.merged_into_id else alumnus
            if alive is not None:
                survivors[id(alive)] = alive
        return list(survivors.values())


def _chunks(emails: list[str], names: list[str]) -> Iterable[tuple[list[str], list[str]]]:
    for start in range(0, max(len(emails), len(names)), CHUNK):
        yield emails[start:start + CHUNK], names[start:start + CHUNK]


def _changes(alumnus: Alumnus, values: dict[str, Any]) -> dict[str, Any]:
    """Fields the row would change. Blank cells never erase; on a record with an account
    the fields the person keeps are only filled when empty."""
    claimed = alumnus.user_id is not None
    changes = {}
    for target, value in values.items():
        current = getattr(alumnus, target)
        if claimed and target in PROFILE_FIELDS and current not in (None, ""):
            continue
        if target in NAME_FIELDS and current and name_key(current) == name_key(value):
            continue  # the same name in other capitals ("NGUYEN"): keep what is there
        if current != value:
            changes[target] = value
    return changes


def run_import(rows: list[ParsedRow], errors: list[RowError], *, actor: User | None,
               filename: str) -> Report:
    report = Report(errors=list(errors))
    report.skipped = len({e.row for e in errors})
    index = Index(rows)
    for row in rows:
        matches = index.find(row.values)
        if len(matches) > 1:
            ids = ", ".join(f"#{a.id}" for a in matches if a.id)
            report.errors.append(RowError(row.row, "", str(_l(
                "This row matches several records (%(ids)s). Merge them first.", ids=ids))))
            report.skipped += 1
            continue
        if not matches:
            alumnus = Alumnus(source="import", **row.values)
            db.session.add(alumnus)
            index.add(alumnus)
            report.created += 1
            _sample(report, Outcome(row.row, "created", alumnus.display_name, None,
                                    sorted(row.values)))
            continue
        alumnus = matches[0]
        changes = _changes(alumnus, row.values)
        if changes:
            for target, value in changes.items():
                setattr(alumnus, target, value)
            index.add(alumnus)
            report.updated += 1
            _sample(report, Outcome(row.row, "updated", alumnus.display_name, alumnus.id,
                                    sorted(changes)))
        else:
            report.unchanged += 1
    db.session.flush()
    report.errors.sort(key=lambda e: e.row)
    record("alumni.imported", actor=actor, actor_label=None if actor else "cli",
           object_type="alumni_import", details={"file": filename, **report.summary()})
    return report


def _sample(report: Report, outcome: Outcome) -> None:
    if len(report.outcomes) < SAMPLE:
        report.outcomes.append(outcome)
