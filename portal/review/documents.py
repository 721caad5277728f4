"""The dossier's documents as reviewers get them: which, under what name, in what form.

A reviewer gets a document only through their visible assignment (portal.review.policy:
the same query decides the list, each file, each preview and the zip), only for a
requirement reviewers of the cycle may see (portal.review.blind.requirement_visible:
never a sensitive one, nor a purged file), and always named "<requirement label>.<ext>"
(never the uploaded name, which often carries the candidate's name), unique within the
dossier so the zip loses nothing.

PDFs are handed out as the reviewers' copy (portal.review.pdf_copy: no title, author,
XMP or other document metadata), made once on the first reviewer request and kept as a
blob of its own (`NominationDocument.reviewer_blob_id`) until the file is replaced.
Images are already re-encoded without metadata when they are uploaded. Every file leaves
through portal.storage.handout, which writes the audit row.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime

from flask import abort, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import aliased

from portal import jobs
from portal.accounts.models import User
from portal.audit.services import record
from portal.cycles.models import DocumentRequirement, Sensitivity
from portal.db import new_key, rowcount
from portal.errors import Conflict, Refused
from portal.extensions import db
from portal.nominations.models import DocumentState, Nomination, NominationDocument
from portal.review import blind, policy
from portal.review.models import Assignment, ReviewSetup
from portal.review.pdf_copy import CopyFailed, strip_metadata
from portal.storage import NotFound, get_storage
from portal.storage.base import CHUNK
from portal.storage.handout import Item
from portal.storage.models import Blob
from portal.storage.zips import unique_name

log = logging.getLogger(__name__)

PDF = "application/pdf"


class DocumentUnavailable(Refused):
    """A PDF the portal could not turn into the reviewers' copy: it is not handed out
    rather than handed out with its metadata."""


@dataclass(frozen=True)
class ReviewerDocument:
    """One document of a dossier as a reviewer sees it (for pages: label, name, type,
    size, links; the storage facts stay with the service)."""

    id: int
    nomination_id: int
    requirement_id: int
    label: str  # the requirement's label
    name: str  # the file name reviewers see, unique within the dossier
    content_type: str
    size: int  # of the stored file (the copy of a PDF differs by a few bytes)
    uploaded_at: datetime
    # Where the file is: the stored original, and the reviewers' copy once made.
    _blob_id: int
    _key: str
    _sha256: str
    _copy_id: int | None
    _copy_key: str | None
    _copy_size: int | None

    @property
    def is_pdf(self) -> bool:
        return self.content_type == PDF

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def url(self) -> str:
        return url_for("review.document", nomination_id=self.nomination_id,
                       document_id=self.id)

    @property
    def preview_url(self) -> str:
        return url_for("review.document_preview", nomination_id=self.nomination_id,
                       document_id=self.id)


@dataclass(frozen=True)
class ReviewerFile(Item):
    """A document as handed out to a reviewer (alone, or as a member of the zip)."""

    uploaded_at: datetime | None = None

    @property
    def missing_note(self) -> str:
        return f"The stored file of {self.name} was not found.\n"


def reviewer_documents(user: User, assignment: Assignment) -> list[ReviewerDocument]:
    """The documents of the assignment's dossier this reviewer may open, in checklist
    order, in one query (empty when the assignment is not visible to them now)."""
    visible = (policy.assignments_visible_to(user)
               .where(Assignment.id == assignment.id)
               .with_only_columns(Nomination.id))
    copy = aliased(Blob)
    rows = db.session.execute(
        select(NominationDocument, DocumentRequirement, Blob, copy, ReviewSetup)
        .join(DocumentRequirement, DocumentRequirement.id == NominationDocument.requirement_id)
        .join(Blob, Blob.id == NominationDocument.blob_id)
        .outerjoin(copy, copy.id == NominationDocument.reviewer_blob_id)
        .join(Nomination, Nomination.id == NominationDocument.nomination_id)
        .outerjoin(ReviewSetup, ReviewSetup.cycle_id == Nomination.cycle_id)
        .where(NominationDocument.nomination_id.in_(visible),
               NominationDocument.state != DocumentState.PURGED,
               Blob.purged_at.is_(None),
               DocumentRequirement.sensitivity != Sensitivity.SENSITIVE)
        .order_by(DocumentRequirement.position, NominationDocument.id)
    ).all()
    taken: set[str] = set()
    found = []
    for document, requirement, blob, made, setup in rows:
        if not blind.requirement_visible(requirement, setup):
            continue
        found.append(ReviewerDocument(
            id=document.id, nomination_id=document.nomination_id,
            requirement_id=requirement.id, label=requirement.label,
            name=unique_name(blind.document_name(requirement, blob.content_type), taken),
            content_type=blob.content_type, size=blob.size,
            uploaded_at=document.uploaded_at, _blob_id=blob.id, _key=blob.key,
            _sha256=blob.sha256, _copy_id=made.id if made is not None else None,
            _copy_key=made.key if made is not None else None,
            _copy_size=made.size if made is not None else None,
        ))
    return found


def reviewer_document(user: User, assignment: Assignment,
                      document_id: int) -> ReviewerDocument:
    """One document of the dossier, or 404 (not in it, not for reviewers, or gone)."""
    for document in reviewer_documents(user, assignment):
        if document.id == document_id:
            return document
    abort(404)


# -- the reviewers' copy of a PDF -------------------------------------------------------

def _make_copy(document: ReviewerDocument) -> Blob:
    """Write the reviewers' copy of the document's PDF to the storage; its Blob row is
    added (flushed) but not yet linked to the document."""
    storage = get_storage()
    try:
        chunks = storage.open(document._key)
    except NotFound:
        abort(404)
    with tempfile.SpooledTemporaryFile(max_size=CHUNK) as source, \
            tempfile.SpooledTemporaryFile(max_size=CHUNK) as out:
        for chunk in chunks:
            source.write(chunk)
        source.seek(0)
        try:
            strip_metadata(source, out)
        except CopyFailed as e:
            log.error("no reviewers' copy of document %s: %s", document.id, e)
            raise DocumentUnavailable(_l(
                "This PDF could not be prepared for reviewers. Please tell the programme "
                "staff; the other documents are not affected.")) from e
        key = new_key()
        size, sha256 = storage.put(out, key, content_type=PDF)
    copy = Blob(key=key, size=size, sha256=sha256, content_type=PDF,
                original_name=document.name, created_by_id=None)
    db.session.add(copy)
    db.session.flush()
    return copy


def _discard_copy(copy: Blob) -> None:
    db.session.delete(copy)
    db.session.flush()
    jobs.enqueue("portal.nominations.uploads.delete_stored", copy.key)


def reviewer_copy(document: ReviewerDocument) -> tuple[str, int]:
    """(storage key, size) of the reviewers' copy of a PDF, made now if there is none.

    Two first requests at once both make a copy; the conditional UPDATE links one (and
    only for the file it was made from: a file replaced in between gets none), and the
    other request uses that one and discards its own.
    """
    if document._copy_key is not None and document._copy_size is not None:
        return document._copy_key, document._copy_size
    copy = _make_copy(document)
    linked = rowcount(db.session.execute(
        update(NominationDocument)
        .where(NominationDocument.id == document.id,
               NominationDocument.blob_id == document._blob_id,
               NominationDocument.reviewer_blob_id.is_(None))
        .values(reviewer_blob_id=copy.id)
        .execution_options(synchronize_session=False)))
    if linked:
        record("document.reviewer_copy_made", actor=None, object_type="document",
               object_id=document.id,
               details={"nomination_id": document.nomination_id, "blob_id": document._blob_id,
                        "sha256": document._sha256, "copy_blob_id": copy.id,
                        "copy_sha256": copy.sha256})
        return copy.key, copy.size
    _discard_copy(copy)
    other = db.session.execute(
        select(Blob.key, Blob.size)
        .join(NominationDocument, NominationDocument.reviewer_blob_id == Blob.id)
        .where(NominationDocument.id == document.id,
               NominationDocument.blob_id == document._blob_id)).first()
    if other is None:
        raise Conflict(_l("This document was replaced a moment ago. Please reload the page."))
    return other[0], other[1]


def _file(document: ReviewerDocument, reference: str) -> ReviewerFile:
    if document.is_pdf:
        key, size = reviewer_copy(document)
    else:
        key, size = document._key, document.size
    return ReviewerFile(
        key=key, name=document.name, content_type=document.content_type, size=size,
        object_type="document", object_id=document.id, uploaded_at=document.uploaded_at,
        details={"nomination_id": document.nomination_id, "reference": reference,
                 "requirement_id": document.requirement_id, "file": document.name,
                 "sha256": document._sha256, "reviewer_copy": document.is_pdf},
    )


# -- what the hand-outs get ---------------------------------------------------------------

def document_file(user: User, nomination_id: int, document_id: int) -> ReviewerFile:
    """One document of the reviewer's dossier, ready to hand out; 404 unless the policy
    lets the reviewer open the dossier now."""
    assignment, nomination = policy.visible_assignment_or_404(user, nomination_id)
    document = reviewer_document(user, assignment, document_id)
    return _file(document, nomination.reference)


def dossier_zip_name(nomination: Nomination) -> str:
    """The opaque reference only: the zip's name is no place for the candidate's."""
    return f"Candidate_{nomination.reference}.zip"


def dossier_files(user: User, nomination_id: int) -> tuple[str, list[ReviewerFile]]:
    """(zip name, members): every document the reviewer may open, named as on the page;
    404 unless the policy lets the reviewer open the dossier now."""
    assignment, nomination = policy.visible_assignment_or_404(user, nomination_id)
    files = [_file(d, nomination.reference) for d in reviewer_documents(user, assignment)]
    if not files:
        raise Refused(_l("This dossier has no documents for reviewers."))
    return dossier_zip_name(nomination), files
