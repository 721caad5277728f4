"""Consistency between the database and the storage: verify and sweep.

Both run outside requests (CLI, periodic job) and need an application context.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.db import utcnow
from portal.extensions import db
from portal.storage import get_storage
from portal.storage.base import NotFound, Storage
from portal.storage.models import Blob, PendingUpload
from portal.transaction import discard, unit_of_work

log = logging.getLogger(__name__)
BATCH = 500


@dataclass(frozen=True)
class Problem:
    blob_id: int
    key: str
    kind: str  # "missing", "size", "sha256" or "error"
    detail: str

    def __str__(self) -> str:
        return f"blob {self.blob_id} ({self.key}): {self.detail}"


class VerifyResult(list[Problem]):
    """The problems found, plus how many files were checked."""

    checked: int = 0


def verify(*, storage: Storage | None = None) -> VerifyResult:
    """Check that every live (not purged) Blob row's file exists with its size and hash.

    Rows are read in id order, a batch at a time, so no cursor stays open while big
    files are hashed.
    """
    storage = storage or get_storage()
    result = VerifyResult()
    last_id = 0
    while True:
        rows = db.session.execute(
            select(Blob.id, Blob.key, Blob.size, Blob.sha256)
            .where(Blob.purged_at.is_(None), Blob.id > last_id)
            .order_by(Blob.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return result
        for row in rows:
            result.checked += 1
            if problem := _check_one(storage, row.id, row.key, row.size, row.sha256):
                result.append(problem)
        last_id = rows[-1].id


def _check_one(storage: Storage, blob_id: int, key: str, size: int, sha256: str) -> Problem | None:
    try:
        actual = storage.size(key)
        if actual is None:
            return Problem(blob_id, key, "missing", "file is missing")
        if actual != size:
            return Problem(blob_id, key, "size", f"size is {actual}, expected {size}")
        digest = hashlib.sha256()
        for chunk in storage.open(key):
            digest.update(chunk)
    except NotFound:
        return Problem(blob_id, key, "missing", "file is missing")
    except Exception as e:  # report and go on: one bad file must not hide the others
        return Problem(blob_id, key, "error", f"could not be read: {e!r}")
    if digest.hexdigest() != sha256:
        return Problem(blob_id, key, "sha256", "content does not match its SHA-256")
    return None


@dataclass
class SweepReport:
    deleted_keys: list[str] = field(default_factory=list)
    aborted_uploads: list[tuple[str, str]] = field(default_factory=list)  # (key, upload id)
    removed_pending: list[int] = field(default_factory=list)  # PendingUpload ids
    temp_files: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (
            len(self.deleted_keys) + len(self.aborted_uploads)
            + len(self.removed_pending) + len(self.temp_files)
        )


def sweep(
    grace: timedelta,
    *,
    now: datetime | None = None,
    storage: Storage | None = None,
    dry_run: bool = False,
) -> SweepReport:
    """Remove what no row needs any more and is older than grace, as one unit of work
    (a dry run lists the same and keeps nothing).

    - multipart uploads with no PendingUpload row, or whose row saw no activity
      (updated_at) within grace: aborted, and the row deleted;
    - PendingUpload rows idle for longer than grace whose upload is gone;
    - stored files no live Blob row and no PendingUpload row points to. A row marked
      purged does not protect its file: the purge meant it to be gone;
    - temporary files of interrupted writes.
    Anything younger than grace is left alone: an upload writes its file before the
    request commits the row. now can be moved forward by tests instead of waiting.
    """
    storage = storage or get_storage()
    cutoff = (now or utcnow()) - grace
    report = SweepReport()
    with unit_of_work():
        _sweep_multipart(storage, cutoff, report, dry_run)
        _sweep_keys(storage, cutoff, report, dry_run)
        if dry_run:
            discard()
        else:
            report.temp_files = storage.cleanup_temp(cutoff)
    log.info(
        "storage sweep: %d files, %d uploads, %d pending rows, %d temp files",
        len(report.deleted_keys), len(report.aborted_uploads),
        len(report.removed_pending), len(report.temp_files),
    )
    return report


def _sweep_multipart(storage: Storage, cutoff: datetime, report: SweepReport, dry: bool) -> None:
    uploads = list(storage.iter_multipart_uploads())  # listed first: aborting changes pages
    live_ids: set[str] = set()
    for key, upload_id, initiated in uploads:
        row = db.session.scalar(select(PendingUpload).where(PendingUpload.upload_id == upload_id))
        if initiated >= cutoff or (row is not None and row.updated_at >= cutoff):
            live_ids.add(upload_id)
            continue
        if not dry:
            storage.abort_multipart(key, upload_id)
        report.aborted_uploads.append((key, upload_id))
        if row is not None:
            report.removed_pending.append(row.id)
            db.session.delete(row)
    # Rows left behind by an upload whose storage side is gone (completed or aborted).
    stale = db.session.scalars(
        select(PendingUpload).where(PendingUpload.updated_at < cutoff)
    ).all()
    for row in stale:
        if row.upload_id not in live_ids and row.id not in report.removed_pending:
            report.removed_pending.append(row.id)
            db.session.delete(row)
    db.session.flush()


def _sweep_keys(storage: Storage, cutoff: datetime, report: SweepReport, dry: bool) -> None:
    batch: list[str] = []
    for key, modified in storage.iter_keys():
        if modified >= cutoff:
            continue
        batch.append(key)
        if len(batch) >= BATCH:
            _delete_unreferenced(storage, batch, report, dry)
            batch = []
    if batch:
        _delete_unreferenced(storage, batch, report, dry)


def _delete_unreferenced(
    storage: Storage, keys: Iterable[str], report: SweepReport, dry: bool
) -> None:
    keys = list(keys)
    wanted = set(db.session.scalars(
        select(Blob.key).where(Blob.key.in_(keys), Blob.purged_at.is_(None))
    ))
    wanted.update(db.session.scalars(select(PendingUpload.key).where(PendingUpload.key.in_(keys))))
    for key in keys:
        if key not in wanted:
            if not dry:
                storage.delete(key)
            report.deleted_keys.append(key)
