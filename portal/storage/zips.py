"""Streamed zips of stored files, and member names kept unique within one archive.

A zip is written by the standard library's zipfile into a sink that only collects bytes
until the generator hands them on, so the archive never exists in memory or on disk:
memory stays at about one storage chunk (1 MiB) whatever the number and size of files.
Documents are PDFs, JPEGs and PNGs, already compressed, so they are stored (ZIP_STORED):
compressing them again would cost CPU for a few percent at best.

The staff's dossier zips (portal.intake) and the reviewers' (portal.review) both use it;
each area decides the member names and hands them over as `ZipMember`s.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import IO, Protocol, cast

from portal.storage.base import NotFound, Storage


class ZipMember(Protocol):
    """One stored file as a member of a zip (portal.storage.handout.Item and its kin)."""

    @property
    def key(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def size(self) -> int: ...

    @property
    def uploaded_at(self) -> datetime | None: ...

    @property
    def missing_note(self) -> str:
        """The text put in the archive instead of a file the storage no longer has."""
        ...


def unique_name(name: str, taken: set[str]) -> str:
    """The name, or name-2, name-3... (before the extension) when it is taken already;
    compared without case so unzipping on Windows or macOS loses nothing. `taken` is
    updated."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"
    taken.add(candidate.lower())
    return candidate


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


def stream_zip(storage: Storage, members: Sequence[ZipMember]) -> Iterator[bytes]:
    """The zip of `members`, produced while the files are read from the storage."""
    sink = _Sink()
    with zipfile.ZipFile(cast(IO[bytes], sink), "w", compression=zipfile.ZIP_STORED,
                         allowZip64=True) as zf:
        for member in members:
            try:
                chunks = storage.open(member.key)
            except NotFound:
                # The listing is sent already; say in the archive what could not be read.
                zf.writestr(f"MISSING_{member.name}.txt", member.missing_note)
                yield from sink.drain()
                continue
            info = zipfile.ZipInfo(member.name, date_time=_zip_time(member.uploaded_at))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            # The known size lets zipfile choose ZIP64 headers up front for big files.
            info.file_size = member.size
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
