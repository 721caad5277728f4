"""Documents of a nomination: direct uploads, resumable chunked uploads, replace, remove.

Every file is checked by content (portal.storage.checks) before a Blob row exists. A
chunked upload keeps its state in the database (PendingUpload + ChunkedDocumentUpload)
and its parts in the storage (S3 multipart on S3), so any server process can take the
next part after an interruption.

Limits (issue 12, points 5 and 6): a request body may be at most what its endpoint
needs (`body_limit`: the requirement's limit plus the rest of the form; `part_bytes`:
the part's exact size), refused with 413 from Content-Length before anything is read
(portal.nominations.document_routes). One resumable upload is active per nomination and
requirement: starting another file replaces (aborts) the earlier one; and a person has
at most UPLOADS_UNFINISHED_MAX unfinished ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from contextlib import suppress
from datetime import date
from typing import IO, Any, BinaryIO, cast

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal import jobs
from portal.accounts.models import User
from portal.audit.services import record
from portal.cycles.models import DocumentRequirement, ValidityRule
from portal.db import new_key, utcnow
from portal.errors import Refused
from portal.extensions import db
from portal.nominations.history import log_event
from portal.nominations.models import (
    ChunkedDocumentUpload,
    DocumentState,
    Nomination,
    NominationDocument,
)
from portal.nominations.services import refresh_completeness
from portal.storage import (
    Blob,
    FileRejected,
    FileTooLarge,
    NotFound,
    PendingUpload,
    clean_filename,
    get_storage,
    store_upload,
)
from portal.storage.base import MIN_PART_SIZE, HashingReader
from portal.storage.checks import KINDS, inspect_file, spool_limited

PART_SIZE = MIN_PART_SIZE  # the smallest part S3 accepts: least to resend after a cut


class UploadError(Refused):
    """A refused file or part; its message is shown beside the document (translated).
    Most are 422; a part that does not fit is 400, an upload gone from the storage 410,
    a nomination no longer editable 409."""


class FileTooBig(UploadError):
    """A file over the requirement's size limit."""

    status = 413


def _refused(error: FileRejected) -> UploadError:
    """The storage's refusal of a file as the area's error (413 when it is too large)."""
    if isinstance(error, FileTooLarge):
        return FileTooBig(error.message)
    return UploadError(error.message)


def chunk_threshold() -> int:
    """Files above this many bytes go up in parts (UPLOAD_CHUNK_MB; the browser decides,
    the server accepts either)."""
    return int(current_app.config["UPLOAD_CHUNK_MB"]) * 1024 * 1024


def limit_bytes(requirement: DocumentRequirement) -> int:
    return requirement.max_size_mb * 1024 * 1024


def body_limit(requirement: DocumentRequirement) -> int:
    """The largest request a one-request upload for `requirement` may send: the file's
    limit plus room for the rest of the form (UPLOAD_FORM_OVERHEAD_KB)."""
    return limit_bytes(requirement) + int(current_app.config["UPLOAD_FORM_OVERHEAD_KB"]) * 1024


def unfinished_max() -> int:
    """Unfinished resumable uploads one person may have (UPLOADS_UNFINISHED_MAX)."""
    return int(current_app.config["UPLOADS_UNFINISHED_MAX"])


def too_big(requirement: DocumentRequirement) -> FileTooBig:
    """The refusal of a file over the requirement's limit, with the limit in it."""
    return FileTooBig(FileTooLarge(limit_bytes(requirement)).message, code="too_large")


PART_TOO_BIG = _l("This part is larger than announced.")


def accepted_label(requirement: DocumentRequirement) -> str:
    return ", ".join(KINDS[k].short for k in KINDS if k in requirement.accepted_types)


def accept_attr(requirement: DocumentRequirement) -> str:
    """The <input accept> value: a hint for the file picker; the server checks content."""
    mimes = [KINDS[k].content_type for k in KINDS if k in requirement.accepted_types]
    exts = [KINDS[k].extension for k in KINDS if k in requirement.accepted_types]
    if "jpeg" in requirement.accepted_types:
        exts.append(".jpeg")
    return ",".join(mimes + exts)


def _ensure_editable(nomination: Nomination) -> None:
    if not nomination.editable:
        raise UploadError(_l("This nomination can no longer be changed."), status=409)


def check_dates(requirement: DocumentRequirement, expires_on: date | None,
                issued_on: date | None) -> None:
    """The date beside the file is required where the requirement has a validity rule."""
    if requirement.validity_rule == ValidityRule.VALID_MONTHS_AFTER_TRAINING and not expires_on:
        raise UploadError(_l("Enter the expiry date shown on the document."))
    if requirement.validity_rule == ValidityRule.ISSUED_DAYS_BEFORE_DEADLINE and not issued_on:
        raise UploadError(_l("Enter the date the document was issued."))


def delete_stored(key: str) -> None:
    """Job: remove a replaced file after the commit (the sweep catches any failure)."""
    get_storage().delete(key)


def _drop_reviewer_copy(document: NominationDocument) -> None:
    """The reviewers' copy of a file (portal.review.documents) goes when the file goes."""
    if document.reviewer_blob_id is None:
        return
    copy = db.session.get(Blob, document.reviewer_blob_id)
    document.reviewer_blob_id = None
    if copy is not None:
        db.session.delete(copy)
        jobs.enqueue("portal.nominations.uploads.delete_stored", copy.key)


def abort_stored(key: str, upload_id: str) -> None:
    """Job: abort a replaced resumable upload after the commit (the sweep catches any
    failure)."""
    get_storage().abort_multipart(key, upload_id)


def attach(nomination: Nomination, requirement: DocumentRequirement, blob: Blob,
           actor: User | None, *, expires_on: date | None = None,
           issued_on: date | None = None) -> NominationDocument:
    """Make blob the nomination's file for requirement, replacing an earlier one."""
    document = db.session.scalars(select(NominationDocument).where(
        NominationDocument.nomination_id == nomination.id,
        NominationDocument.requirement_id == requirement.id)).first()
    replaced = None
    if document is None:
        document = NominationDocument(nomination_id=nomination.id, requirement_id=requirement.id)
        db.session.add(document)
    else:
        replaced = db.session.get(Blob, document.blob_id)
        _drop_reviewer_copy(document)
    document.blob_id = blob.id
    document.state = DocumentState.UPLOADED
    document.problem = None
    document.expires_on = expires_on
    document.issued_on = issued_on
    document.uploaded_by_id = actor.id if actor is not None else None
    document.uploaded_at = utcnow()
    db.session.flush()
    details: dict[str, Any] = {"requirement": requirement.code, "blob_id": blob.id,
                               "size": blob.size, "sha256": blob.sha256,
                               "name": blob.original_name}
    if replaced is not None:
        details["replaced_sha256"] = replaced.sha256
        db.session.delete(replaced)
        jobs.enqueue("portal.nominations.uploads.delete_stored", replaced.key)
    record("document.replaced" if replaced else "document.uploaded", actor=actor,
           object_type="nomination", object_id=nomination.id, details=details)
    log_event(nomination, actor, "document_replaced" if replaced else "document_uploaded",
              comment=f"{requirement.label}: {blob.original_name}")
    refresh_completeness(nomination)
    return document


def upload(nomination: Nomination, requirement: DocumentRequirement,
           stream: IO[bytes] | None, filename: str | None, actor: User | None, *,
           expires_on: date | None = None, issued_on: date | None = None,
           ) -> NominationDocument:
    """A whole file in one request (small files, and browsers without JavaScript)."""
    _ensure_editable(nomination)
    if stream is None or not filename:
        raise UploadError(_l("Choose a file to upload."))
    check_dates(requirement, expires_on, issued_on)
    try:
        blob = store_upload(cast(BinaryIO, stream), original_name=filename,
                            allowed=set(requirement.accepted_types),
                            max_bytes=limit_bytes(requirement),
                            user_id=actor.id if actor is not None else None)
    except FileRejected as e:
        raise _refused(e) from e
    return attach(nomination, requirement, blob, actor, expires_on=expires_on,
                  issued_on=issued_on)


def remove(nomination: Nomination, requirement: DocumentRequirement, actor: User | None,
           ) -> None:
    """Remove the nomination's file for `requirement` (nothing to do if there is none)."""
    _ensure_editable(nomination)
    document = db.session.scalars(select(NominationDocument).where(
        NominationDocument.nomination_id == nomination.id,
        NominationDocument.requirement_id == requirement.id)).first()
    if document is None:
        return
    blob = db.session.get(Blob, document.blob_id)
    _drop_reviewer_copy(document)
    db.session.delete(document)
    db.session.flush()
    if blob is not None:
        record("document.removed", actor=actor, object_type="nomination",
               object_id=nomination.id, details={"requirement": requirement.code,
                                                 "sha256": blob.sha256, "blob_id": blob.id})
        db.session.delete(blob)
        jobs.enqueue("portal.nominations.uploads.delete_stored", blob.key)
    log_event(nomination, actor, "document_removed", comment=requirement.label)
    refresh_completeness(nomination)


# -- chunked, resumable uploads ---------------------------------------------------------

def part_count(upload: PendingUpload) -> int:
    return max(1, math.ceil(upload.total_size / upload.part_size))


def part_bytes(upload: PendingUpload, number: int) -> int | None:
    """The exact size of part `number`, or None when the file has no such part."""
    count = part_count(upload)
    if not 1 <= number <= count:
        return None
    return upload.part_size if number < count else \
        upload.total_size - upload.part_size * (count - 1)


def describe(link: ChunkedDocumentUpload) -> dict[str, Any]:
    """What a browser needs to go on: which parts the server has."""
    pending = link.pending
    return {"id": link.id, "part_size": pending.part_size, "total_size": pending.total_size,
            "parts": sorted(n for n, _t in pending.parts), "next_part": pending.next_part,
            "part_count": part_count(pending)}


def find_chunked(nomination: Nomination, upload_id: int) -> ChunkedDocumentUpload | None:
    return db.session.scalars(select(ChunkedDocumentUpload).where(
        ChunkedDocumentUpload.id == upload_id,
        ChunkedDocumentUpload.nomination_id == nomination.id)).first()


def _unfinished_of(actor: User) -> int:
    """The person's unfinished resumable uploads, counted under their row's lock
    (PostgreSQL; SQLite writers are serialized already) so two starts at once cannot
    both pass the cap."""
    db.session.execute(select(User.id).where(User.id == actor.id).with_for_update())
    return db.session.scalar(select(func.count(PendingUpload.id)).where(
        PendingUpload.created_by_id == actor.id)) or 0


def start_chunked(nomination: Nomination, requirement: DocumentRequirement, *, filename: str,
                  size: int, fingerprint: str, actor: User | None) -> ChunkedDocumentUpload:
    """Begin a resumable upload, or find the active one again by the file's fingerprint.

    One upload is active per nomination and requirement: starting another file replaces
    the earlier one (its parts are dropped after the commit). Refused when the person
    has UPLOADS_UNFINISHED_MAX unfinished uploads already.
    """
    _ensure_editable(nomination)
    if size <= 0:
        raise UploadError(_l("The file is empty."))
    if size > limit_bytes(requirement):
        raise too_big(requirement)
    fingerprint = (fingerprint or "")[:200]
    # Starts for one nomination take turns (the row lock), so two tabs cannot both make
    # "the" active upload of a requirement (a UNIQUE constraint holds it too).
    db.session.execute(select(Nomination.id).where(Nomination.id == nomination.id)
                       .with_for_update())
    existing = db.session.scalars(
        select(ChunkedDocumentUpload).where(
            ChunkedDocumentUpload.nomination_id == nomination.id,
            ChunkedDocumentUpload.requirement_id == requirement.id)).first()
    if existing is not None:
        if fingerprint and existing.fingerprint == fingerprint \
                and existing.pending.total_size == size:
            return existing
        replaced = existing.pending
        jobs.enqueue("portal.nominations.uploads.abort_stored", replaced.key,
                     replaced.upload_id)
        db.session.delete(replaced)  # its link row goes with it (ON DELETE CASCADE)
        db.session.flush()
        db.session.expunge(existing)
    if actor is not None and _unfinished_of(actor) >= unfinished_max():
        raise UploadError(_l(
            "You have %(n)d unfinished uploads, the most allowed. Finish one of them, or "
            "upload this file again later: unfinished uploads are removed after a day.",
            n=unfinished_max()), code="too_many")
    key = new_key()
    upload_id = get_storage().start_multipart(key, "application/octet-stream")
    pending = PendingUpload(
        key=key, upload_id=upload_id, content_type="application/octet-stream",
        original_name=clean_filename(filename), total_size=size, next_part=1,
        part_size=PART_SIZE, parts=[], created_by_id=actor.id if actor is not None else None)
    db.session.add(pending)
    db.session.flush()
    link = ChunkedDocumentUpload(pending_id=pending.id, nomination_id=nomination.id,
                                 requirement_id=requirement.id, fingerprint=fingerprint)
    db.session.add(link)
    db.session.flush()
    return link


def put_part(link: ChunkedDocumentUpload, number: int, stream: IO[bytes]) -> dict[str, Any]:
    """Store one part. Sending a part again replaces it, so a part cut off half-way is
    simply sent again; its size must be exact, so a cut-off part is never kept."""
    pending = link.pending
    count = part_count(pending)
    expected = part_bytes(pending, number)
    if expected is None:
        raise UploadError(_l("This part does not belong to the file."), status=400)
    try:
        spooled = spool_limited(cast(BinaryIO, stream), expected)
    except FileTooLarge as e:
        raise UploadError(PART_TOO_BIG, status=413, code="too_large") from e
    with spooled:
        spooled.seek(0, 2)
        if spooled.tell() != expected:
            raise UploadError(_l("The part arrived incomplete; please send it again."),
                              status=400)
        spooled.seek(0)
        try:
            token = get_storage().put_part(pending.key, pending.upload_id, number,
                                           cast(BinaryIO, spooled))
        except NotFound as e:
            raise UploadError(_l("This upload expired. Please start it again."),
                              status=410) from e
    # Lock the row (PostgreSQL) so two processes adding parts do not lose one another's.
    pending = db.session.scalars(select(PendingUpload).where(PendingUpload.id == pending.id)
                                 .with_for_update().execution_options(populate_existing=True)
                                 ).one()
    parts = [p for p in pending.parts if p[0] != number] + [[number, token]]
    pending.parts = sorted(parts)
    have = {n for n, _t in pending.parts}
    pending.next_part = next((n for n in range(1, count + 1) if n not in have), count + 1)
    pending.updated_at = utcnow()
    return describe(link)


def _discard(pending: PendingUpload, completed: bool) -> None:
    storage = get_storage()
    with suppress(Exception):  # best effort: the sweep removes what is left
        if completed:
            storage.delete(pending.key)
        else:
            storage.abort_multipart(pending.key, pending.upload_id)
    db.session.delete(pending)


def abort_chunked(link: ChunkedDocumentUpload) -> None:
    _discard(link.pending, completed=False)


def complete_chunked(nomination: Nomination, requirement: DocumentRequirement,
                     link: ChunkedDocumentUpload, actor: User | None, *,
                     expires_on: date | None,
                     issued_on: date | None) -> NominationDocument:
    """Join the parts, check the whole file by content, and attach it.

    A PDF passes unchanged, so the joined object becomes the blob as it is (no second
    copy); an image is re-encoded and stored under a new key.
    """
    _ensure_editable(nomination)
    check_dates(requirement, expires_on, issued_on)
    pending = link.pending
    count = part_count(pending)
    if sorted(n for n, _t in pending.parts) != list(range(1, count + 1)):
        raise UploadError(_l("Some parts of the file have not arrived yet."), status=409)
    storage = get_storage()
    try:
        storage.complete_multipart(pending.key, pending.upload_id,
                                   [(n, t) for n, t in pending.parts])
    except (NotFound, ValueError) as e:
        # Gone: joined by an earlier try whose answer was lost, or expired.
        if storage.size(pending.key) != pending.total_size:
            _discard(pending, completed=False)
            raise UploadError(_l("This upload could not be finished. Please upload the file "
                                 "again."), status=410) from e
    reader = HashingReader(cast(BinaryIO, _IterStream(storage.open(pending.key))))
    try:
        with spool_limited(cast(BinaryIO, reader), limit_bytes(requirement)) as spooled:
            checked = inspect_file(spooled, set(requirement.accepted_types))
            name = clean_filename(pending.original_name, checked.extension)
            if checked.fileobj is spooled:
                key, size, sha256 = pending.key, reader.size, reader.hexdigest()
            else:
                key = new_key()
                with checked.fileobj:
                    size, sha256 = storage.put(cast(BinaryIO, checked.fileobj), key,
                                               content_type=checked.content_type)
    except FileRejected as e:
        _discard(pending, completed=True)
        raise _refused(e) from e
    blob = Blob(key=key, size=size, sha256=sha256, content_type=checked.content_type,
                original_name=name, created_by_id=actor.id if actor is not None else None)
    db.session.add(blob)
    if key != pending.key:
        jobs.enqueue("portal.nominations.uploads.delete_stored", pending.key)
    db.session.delete(pending)  # its link row goes with it (ON DELETE CASCADE)
    db.session.flush()
    return attach(nomination, requirement, blob, actor, expires_on=expires_on,
                  issued_on=issued_on)


class _IterStream:
    """A read()-able view of an iterator of byte chunks (a stored file)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buffer) < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if n < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data
