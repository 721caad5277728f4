"""Deleting sensitive documents (passport, health certificate...) after retention.

A cycle is past retention once `training_ends_on + retention_days` lies behind today.
Its sensitive files are deleted from the storage; the rows stay as the record that they
existed (the Blob keeps name, size, hash, uploader and time, with `purged_at` set; the
NominationDocument keeps its place in the checklist with state "purged"), and each
purge is written to the audit log. Running it again finds nothing left to do.

The same retention ends the traces kept beside each endorsement and consent (network
addresses and browser-session hashes of the nominator who asked and of the person who
answered, issue 12 point 2): they are cleared, the answers themselves stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, update

from portal.audit.services import record
from portal.cycles.models import Cycle, DocumentRequirement, Sensitivity
from portal.db import rowcount, utcnow
from portal.extensions import db
from portal.nominations.models import (
    Confirmation,
    DocumentState,
    Nomination,
    NominationDocument,
)
from portal.storage import get_storage
from portal.storage.models import Blob
from portal.transaction import run_unit

BATCH = 200


@dataclass
class PurgeReport:
    cycles: list[str] = field(default_factory=list)
    purged: int = 0
    bytes: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (document id, error)
    signals: int = 0  # confirmations whose addresses and session hashes were cleared


def retention_ends(cycle: Cycle) -> date:
    return cycle.training_ends_on + timedelta(days=cycle.retention_days or 0)


def cycles_past_retention(today: date) -> list[Cycle]:
    cycles = db.session.scalars(select(Cycle).order_by(Cycle.training_ends_on)).all()
    return [c for c in cycles if retention_ends(c) < today]


def _batch(cycle_ids: list[int], after_id: int, now: datetime, dry_run: bool,
           report: PurgeReport) -> int | None:
    """Purge (or count) the next batch after document `after_id`, as one unit of work.
    Returns the last document id seen, or None when nothing was left."""
    storage = get_storage()
    rows = db.session.execute(
        select(NominationDocument, Blob)
        .join(Blob, Blob.id == NominationDocument.blob_id)
        .join(Nomination, Nomination.id == NominationDocument.nomination_id)
        .join(DocumentRequirement, DocumentRequirement.id == NominationDocument.requirement_id)
        .where(Nomination.cycle_id.in_(cycle_ids),
               DocumentRequirement.sensitivity == Sensitivity.SENSITIVE,
               Blob.purged_at.is_(None), NominationDocument.id > after_id)
        .order_by(NominationDocument.id)
        .limit(BATCH)
        # Two machines running the tick at once share the work instead of doubling it
        # (PostgreSQL; SQLite serializes writers already).
        .with_for_update(of=NominationDocument, skip_locked=True)
    ).tuples().all()
    if not rows:
        return None
    for document, blob in rows:
        report.purged += 1
        report.bytes += blob.size
        if dry_run:
            continue
        try:
            # File first, row after: if the commit fails the next run deletes again (a
            # missing file is no error); never a row saying "purged" in front of a file
            # that is still there.
            storage.delete(blob.key)
        except Exception as error:  # noqa: BLE001 - one bad file must not stop the run
            report.purged -= 1
            report.bytes -= blob.size
            report.failed.append((document.id, str(error)))
            continue
        blob.purged_at = now
        document.state = DocumentState.PURGED
        record("document.purged", actor=None, actor_label="purge-sensitive",
               object_type="document", object_id=document.id,
               details={"nomination_id": document.nomination_id, "blob_id": blob.id,
                        "file": blob.original_name, "size": blob.size,
                        "sha256": blob.sha256})
    return rows[-1][0].id


# Where a confirmation request and its answer came from: kept as long as the nomination.
_SIGNALS = (Confirmation.requested_ip, Confirmation.requested_session,
            Confirmation.decided_ip, Confirmation.decided_session)


def _clear_signals(cycle_ids: list[int], dry_run: bool, report: PurgeReport) -> None:
    """Clear the origin traces of every confirmation of these cycles' nominations."""
    where = (Confirmation.nomination_id.in_(
        select(Nomination.id).where(Nomination.cycle_id.in_(cycle_ids))),
        or_(*(column.is_not(None) for column in _SIGNALS)))
    if dry_run:
        report.signals = db.session.scalar(
            select(func.count(Confirmation.id)).where(*where)) or 0
        return
    report.signals = rowcount(db.session.execute(
        update(Confirmation).where(*where)
        .values({column: None for column in _SIGNALS})
        .execution_options(synchronize_session=False)))
    if report.signals:
        record("nomination.confirmation_traces_purged", actor=None,
               actor_label="purge-sensitive", object_type="cycle",
               details={"cycles": cycle_ids, "confirmations": report.signals})


def purge_sensitive(now: datetime | None = None, *, dry_run: bool = False) -> PurgeReport:
    """Purge what is due, each batch in a unit of work of its own, so a long run that is
    interrupted keeps what it did (and a rerun picks up the rest)."""
    now = now or utcnow()
    report = PurgeReport()
    cycles = cycles_past_retention(now.date())
    report.cycles = [c.name for c in cycles]
    cycle_ids = [c.id for c in cycles]
    last_id: int | None = 0
    while cycle_ids and last_id is not None:
        last_id = run_unit(_batch, cycle_ids, last_id, now, dry_run, report)
    if cycle_ids:
        run_unit(_clear_signals, cycle_ids, dry_run, report)
    return report


def run() -> str:
    """Entry point of the periodic job (`flask jobs tick`)."""
    report = purge_sensitive()
    return (f"{report.purged} sensitive file(s) purged, {len(report.failed)} failed, "
            f"traces of {report.signals} confirmation(s) cleared")
