"""Files handed out to staff: their names and streamed zips.

Each file is a portal.storage.handout Item (its audit details name the nomination, the
requirement and the file's hash); the handout writes the audit rows, here or in a zip.

A zip is written by the standard library's zipfile into a sink that only collects bytes
until the generator hands them on, so the archive never exists in memory or on disk:
memory stays at about one storage chunk (1 MiB) whatever the number and size of files.
Documents are PDFs, JPEGs and PNGs, already compressed, so they are stored (ZIP_STORED):
compressing them again would cost CPU for a few percent at best.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, cast

from babel import Locale
from sqlalchemy import Select, select

from portal.accounts.models import User
from portal.cycles.models import DocumentRequirement, Sensitivity
from portal.extensions import db
from portal.institutions.models import Institution
from portal.intake.services import visible_documents
from portal.nominations.models import DocumentState, Nomination
from portal.storage.base import NotFound, Storage
from portal.storage.handout import Item
from portal.storage.models import Blob

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


def _unique(name: str, taken: set[str]) -> str:
    """The name, or name-2, name-3... (before the extension) when it is taken already;
    compared without case so unzipping on Windows or macOS loses nothing."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"
    taken.add(candidate.lower())
    return candidate


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
        name = _unique(file_name(country, institution, family, given, reference, code,
                                 content_type), taken)
        entries.append(FileEntry(
            key=key, name=name, content_type=content_type, size=size,
            object_type="document", object_id=doc_id, uploaded_at=uploaded_at,
            details={"nomination_id": nom_id, "reference": reference, "requirement": code,
                     "file": name, "sha256": sha256,
                     "sensitive": sensitivity == Sensitivity.SENSITIVE},
        ))
    return entries


# -- streamed zip -----------------------------------------------------------------------

class _Sink:
    """A write-only, unseekable file: zipfile then writes local headers with data
    descriptors (sizes and CRC after the data), which is what makes streaming possible."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        chunks, self._chunks = self._chunks, []
        yield from chunks


def _zip_time(value: datetime | None) -> tuple[int, int, int, int, int, int]:
    value = (value or datetime.now(UTC)).astimezone(UTC)
    if value.year < 1980:  # the zip format cannot say earlier
        value = datetime(1980, 1, 1, tzinfo=UTC)
    return (value.year, value.month, value.day, value.hour, value.minute, value.second)


def stream_zip(storage: Storage, entries: list[FileEntry]) -> Iterator[bytes]:
    """The zip of entries, produced while the files are read from the storage."""
    sink = _Sink()
    with zipfile.ZipFile(cast(IO[bytes], sink), "w", compression=zipfile.ZIP_STORED,
                         allowZip64=True) as zf:
        for entry in entries:
            try:
                chunks = storage.open(entry.key)
            except NotFound:
                # The listing is sent already; say in the archive what could not be read.
                zf.writestr(f"MISSING_{entry.name}.txt",
                            f"The stored file of document {entry.object_id} "
                            f"({entry.reference}, {entry.requirement_code}) was not found.\n")
                yield from sink.drain()
                continue
            info = zipfile.ZipInfo(entry.name, date_time=_zip_time(entry.uploaded_at))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            # The known size lets zipfile choose ZIP64 headers up front for big files.
            info.file_size = entry.size
            with zf.open(info, "w") as out:
                try:
                    for chunk in chunks:
                        out.write(chunk)
                        yield from sink.drain()
                finally:
                    close = getattr(chunks, "close", None)
                    if close is not None:
                        close()
            yield from sink.drain()
    yield from sink.drain()


def archive_name(*parts: str) -> str:
    return "_".join(p for p in (ascii_part(x, 60) for x in parts) if p) + ".zip"
