"""Files handed out to staff: their names and streamed zips.

Each file is a portal.storage.handout Item (its audit details name the nomination, the
requirement and the file's hash); the handout writes the audit rows, here or in a zip.
Zips are streamed by portal.storage.zips (the archive never exists in memory or on disk).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from babel import Locale
from sqlalchemy import Select, select

from portal.accounts.models import User
from portal.cycles.models import DocumentRequirement, Sensitivity
from portal.extensions import db
from portal.institutions.models import Institution
from portal.intake.services import visible_documents
from portal.nominations.models import DocumentState, Nomination
from portal.storage.handout import Item
from portal.storage.models import Blob
from portal.storage.zips import stream_zip as stream_zip  # part of this API (downloads)
from portal.storage.zips import unique_name

_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
# Letters that Unicode does not decompose into an ASCII base letter plus accents.
_SPECIAL = str.maketrans({
    "Đ": "D", "đ": "d", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "ß": "ss", "Æ": "AE",
    "æ": "ae", "Œ": "OE", "œ": "oe", "Þ": "Th", "þ": "th", "Ð": "D", "ð": "d", "ı": "i",
})
_NOT_SAFE = re.compile(r"[^A-Za-z0-9]+")
_EN = Locale("en")


def ascii_part(value: str | None, limit: int = 40) -> str:
    """One part of a file name: ASCII letters and digits joined by "-" ("Nguyễn Văn
    Đức" -> "Nguyen-Van-Duc"); empty when nothing is left."""
    text = unicodedata.normalize("NFKD", (value or "").translate(_SPECIAL))
    text = text.encode("ascii", "ignore").decode("ascii")
    return _NOT_SAFE.sub("-", text).strip("-")[:limit].rstrip("-")


@dataclass(frozen=True)
class FileEntry(Item):
    """One stored document as it is handed out (alone, or as a member of a zip)."""

    uploaded_at: datetime | None = None  # the member's time in a zip

    @property
    def reference(self) -> str:
        return str(self.details.get("reference", ""))

    @property
    def requirement_code(self) -> str:
        return str(self.details.get("requirement", ""))

    @property
    def missing_note(self) -> str:
        return (f"The stored file of document {self.object_id} "
                f"({self.reference}, {self.requirement_code}) was not found.\n")


def file_name(country: str, institution: str, family: str, given: str, reference: str,
              document: str, content_type: str) -> str:
    """Country_Institution_Candidate_Document.ext, ASCII only."""
    candidate = ascii_part(f"{family} {given}", 60) or ascii_part(reference) or "Candidate"
    parts = [
        ascii_part(_EN.territories.get(country or "", country), 30) or "XX",
        ascii_part(institution, 50) or "Institution",
        candidate,
        ascii_part(document, 40) or "document",
    ]
    return "_".join(parts) + _EXTENSIONS.get(content_type, "")


def document_entries(user: User, *, document_id: int | None = None,
                     nomination_ids: Select[tuple[int]] | list[int] | None = None,
                     ) -> list[FileEntry]:
    """Handed-out files (one document, or every document of the given nominations) in
    one query, in the order of the archive: country, institution, candidate, checklist."""
    doc = visible_documents(user)
    stmt = (
        select(
            doc.id, doc.nomination_id, Nomination.reference, Nomination.country,
            Nomination.family_name, Nomination.given_names, Institution.name,
            DocumentRequirement.code, DocumentRequirement.sensitivity, Blob.key, Blob.size,
            Blob.sha256, Blob.content_type, doc.uploaded_at,
        )
        .join(Blob, Blob.id == doc.blob_id)
        .join(DocumentRequirement, DocumentRequirement.id == doc.requirement_id)
        .join(Nomination, Nomination.id == doc.nomination_id)
        .join(Institution, Institution.id == Nomination.institution_id)
        .where(Blob.purged_at.is_(None), doc.state != DocumentState.PURGED)
        .order_by(Nomination.country, Institution.name, Nomination.family_name,
                  Nomination.given_names, Nomination.id, DocumentRequirement.position,
                  doc.id)
    )
    if document_id is not None:
        stmt = stmt.where(doc.id == document_id)
    if nomination_ids is not None:
        stmt = stmt.where(doc.nomination_id.in_(nomination_ids))
    taken: set[str] = set()
    entries = []
    for row in db.session.execute(stmt):
        (doc_id, nom_id, reference, country, family, given, institution, code, sensitivity,
         key, size, sha256, content_type, uploaded_at) = row
        name = unique_name(file_name(country, institution, family, given, reference, code,
                                     content_type), taken)
        entries.append(FileEntry(
            key=key, name=name, content_type=content_type, size=size,
            object_type="document", object_id=doc_id, uploaded_at=uploaded_at,
            details={"nomination_id": nom_id, "reference": reference, "requirement": code,
                     "file": name, "sha256": sha256,
                     "sensitive": sensitivity == Sensitivity.SENSITIVE},
        ))
    return entries


def archive_name(*parts: str) -> str:
    return "_".join(p for p in (ascii_part(x, 60) for x in parts) if p) + ".zip"
