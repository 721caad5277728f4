"""The storage interface every backend implements, and small helpers they share."""

from __future__ import annotations

import hashlib
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime
from typing import IO
from urllib.parse import quote

CHUNK = 1024 * 1024
# S3 refuses parts under 5 MiB (except the last); the local backend applies the same rule
# so a chunked-upload bug shows up in development, not only in production.
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10_000
MAX_URL_SECONDS = 60

# Lower-case letters, digits, "_" and "-", in "/"-separated segments. No dot at all, so
# neither ".." nor hidden names can reach the local file system.
_KEY_RE = re.compile(r"[a-z0-9_-]+(?:/[a-z0-9_-]+)*")
MAX_KEY_LENGTH = 200


class InvalidKey(ValueError):
    """A storage key outside the allowed alphabet (guards against path traversal)."""


class NotFound(FileNotFoundError):
    """The key (or multipart upload) does not exist in the storage."""


def validate_key(key: str) -> str:
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not _KEY_RE.fullmatch(key):
        raise InvalidKey(f"invalid storage key: {key!r}")
    return key


def validate_part_number(part_number: int) -> int:
    if not isinstance(part_number, int) or not 1 <= part_number <= MAX_PART_NUMBER:
        raise ValueError(f"part number must be 1..{MAX_PART_NUMBER}")
    return part_number


def clamp_expiry(expires: int) -> int:
    """Download links live at most a minute: long enough to start, too short to share."""
    return max(1, min(int(expires), MAX_URL_SECONDS))


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """Content-Disposition value (RFC 6266) for a user-supplied file name.

    The quoted ASCII fallback drops quotes, backslashes, control and non-ASCII
    characters; the filename* form carries the real name percent-encoded.
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "download"
    fallback = "".join(
        c if 32 <= ord(c) < 127 and c not in '"\\%;' else "_" for c in name
    )
    encoded = quote(name, safe="")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def seekable_size(stream: object) -> int | None:
    """Bytes from the stream's position to its end, or None if it cannot seek."""
    try:
        if not stream.seekable():  # type: ignore[attr-defined]
            return None
        start = stream.tell()  # type: ignore[attr-defined]
        end = stream.seek(0, 2)  # type: ignore[attr-defined]
        stream.seek(start)  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return None
    return end - start


def sha256_of(stream: IO[bytes]) -> str:
    """sha256 of a seekable stream from its position to the end; the position is kept."""
    start = stream.tell()
    digest = hashlib.sha256()
    while data := stream.read(CHUNK):
        digest.update(data)
    stream.seek(start)
    return digest.hexdigest()


class FileView:
    """A read-only, seekable view of an open file with a position of its own.

    Reads go through os.pread, so one thread can store a file through a view while
    another thread reads the same file object (the content checks) without either
    moving the other's position.
    """

    def __init__(self, fileobj: IO[bytes]) -> None:
        fileobj.flush()
        self._fd = fileobj.fileno()
        self._size = os.fstat(self._fd).st_size
        self._pos = 0

    @classmethod
    def of(cls, fileobj: object, min_size: int = 0) -> FileView | None:
        """A view of fileobj if it is a real file of at least min_size bytes, else None
        (an in-memory file has no descriptor to share)."""
        size = seekable_size(fileobj)
        if size is None or size < min_size or fileobj.tell() != 0:  # type: ignore[attr-defined]
            return None
        try:
            view = cls(fileobj)  # type: ignore[arg-type]
        except (AttributeError, OSError, ValueError):
            return None
        return view if view._size == size else None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def flush(self) -> None:
        """Nothing to flush: a view never writes."""

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            n = self._size - self._pos
        data = os.pread(self._fd, max(0, n), self._pos)
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos


class HashingReader:
    """Read-only wrapper that counts and hashes what passes through it.

    It deliberately has no seek(): consumers must read it once, front to back, so the
    digest always matches the bytes that were stored.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._hash = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        if data:
            self._hash.update(data)
            self.size += len(data)
        return data

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class Storage(ABC):
    """Blob store keyed by random strings. Implementations must be safe to share
    between threads and keep no per-upload state in memory (several workers serve
    one portal)."""

    @abstractmethod
    def put(self, stream: IO[bytes], key: str, *, content_type: str) -> tuple[int, str]:
        """Store the stream under key, reading it in chunks; return (size, sha256 hex)."""

    @abstractmethod
    def open(self, key: str) -> Iterator[bytes]:
        """Chunks of the blob. Raises NotFound at call time, not at the first chunk."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the blob; a missing key is not an error."""

    @abstractmethod
    def size(self, key: str) -> int | None:
        """Size in bytes, or None when the key does not exist."""

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    @abstractmethod
    def iter_keys(self) -> Iterator[tuple[str, datetime]]:
        """Every stored key with its last-modified time (aware UTC)."""

    @abstractmethod
    def url_for_download(
        self,
        key: str,
        filename: str,
        content_type: str,
        expires: int = MAX_URL_SECONDS,
        inline: bool = False,
    ) -> str | None:
        """A short-lived direct URL, or None when the portal must stream the file itself."""

    @abstractmethod
    def ping(self) -> None:
        """Raise if the storage cannot be reached (used by /healthz)."""

    # Multipart (resumable) uploads. Callers keep the state (upload id, parts) in the
    # database; the backend keeps the parts. Parts except the last need MIN_PART_SIZE.

    @abstractmethod
    def start_multipart(self, key: str, content_type: str) -> str:
        """Begin an upload to key; return its upload id."""

    @abstractmethod
    def put_part(self, key: str, upload_id: str, part_number: int, stream: IO[bytes]) -> str:
        """Store one part (1-based); return the token complete_multipart needs."""

    @abstractmethod
    def complete_multipart(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        """Join the parts (number, token) in order into key and forget the upload."""

    @abstractmethod
    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Discard the upload and its parts; an unknown upload is not an error."""

    @abstractmethod
    def iter_multipart_uploads(self) -> Iterator[tuple[str, str, datetime]]:
        """Unfinished uploads as (key, upload id, initiated at UTC), for the sweep."""

    def cleanup_temp(self, before: datetime) -> list[str]:
        """Remove leftovers of interrupted writes older than before; return their names.

        Only backends that write temporary files need this.
        """
        return []
