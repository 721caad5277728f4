"""Storage in a local directory: the embedded mode's backend (uploads/).

Layout under root:
    <fan>/<key>                       blobs; <fan> is the key's first two characters, so
                                      no directory grows to hundreds of thousands of files
    .multipart/<upload id>/meta.json  key, content type and start time of an upload
    .multipart/<upload id>/<n>        its parts
Names starting with "." are never keys (keys have no dots), so temporary files and the
multipart area cannot be mistaken for blobs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from portal.storage.base import (
    CHUNK,
    MIN_PART_SIZE,
    HashingReader,
    InvalidKey,
    NotFound,
    Storage,
    validate_key,
    validate_part_number,
)

_UPLOAD_ID_RE = re.compile(r"[0-9a-f]{32}")
_TMP_PREFIX = ".tmp-"
_MULTIPART = ".multipart"


def _read_chunks(stream: IO[bytes] | HashingReader) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


class LocalStorage(Storage):
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # -- blobs -----------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        validate_key(key)
        return self.root / key[:2].replace("/", "_") / key

    def _write_atomic(self, path: Path, chunks: Iterable[bytes]) -> None:
        """Readers see the old file or the complete new one, never a partial write."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def put(self, stream: IO[bytes], key: str, *, content_type: str) -> tuple[int, str]:
        path = self._path(key)
        reader = HashingReader(stream)
        self._write_atomic(path, _read_chunks(reader))
        return reader.size, reader.hexdigest()

    def open(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        try:
            f = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(key) from None
        return self._iter_file(f)

    @staticmethod
    def _iter_file(f: IO[bytes]) -> Iterator[bytes]:
        with f:
            yield from _read_chunks(f)

    def delete(self, key: str) -> None:
        with suppress(FileNotFoundError, NotADirectoryError):
            self._path(key).unlink()

    def size(self, key: str) -> int | None:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return st.st_size if path.is_file() else None

    def iter_keys(self) -> Iterator[tuple[str, datetime]]:
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = Path(dirpath).relative_to(self.root).parts
            if not rel:
                continue  # files directly under root are not blobs
            for name in filenames:
                if name.startswith("."):
                    continue
                key = "/".join((*rel[1:], name))
                try:
                    validate_key(key)
                except InvalidKey:
                    continue  # something else put a file here; not ours to report
                with suppress(FileNotFoundError):
                    yield key, _mtime(Path(dirpath) / name)

    def url_for_download(
        self,
        key: str,
        filename: str,
        content_type: str,
        expires: int = 60,
        inline: bool = False,
    ) -> str | None:
        return None  # the portal streams local files itself

    def ping(self) -> None:
        if not self.root.is_dir() or not os.access(self.root, os.W_OK | os.X_OK):
            raise OSError(f"storage folder {self.root} is missing or not writable")

    # -- multipart -------------------------------------------------------------------

    def _upload_dir(self, key: str, upload_id: str) -> Path:
        validate_key(key)
        if not isinstance(upload_id, str) or not _UPLOAD_ID_RE.fullmatch(upload_id):
            raise NotFound(f"no upload {upload_id!r}")
        folder = self.root / _MULTIPART / upload_id
        meta = self._read_meta(folder)
        if meta is None or meta.get("key") != key:
            raise NotFound(f"no upload {upload_id!r} for {key!r}")
        return folder

    @staticmethod
    def _read_meta(folder: Path) -> dict | None:
        try:
            return json.loads((folder / "meta.json").read_text())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return None

    def start_multipart(self, key: str, content_type: str) -> str:
        validate_key(key)
        upload_id = uuid.uuid4().hex
        folder = self.root / _MULTIPART / upload_id
        folder.mkdir(parents=True)
        meta = {
            "key": key,
            "content_type": content_type,
            "initiated_at": datetime.now(UTC).isoformat(),
        }
        self._write_atomic(folder / "meta.json", [json.dumps(meta).encode()])
        return upload_id

    def put_part(self, key: str, upload_id: str, part_number: int, stream: IO[bytes]) -> str:
        folder = self._upload_dir(key, upload_id)
        validate_part_number(part_number)
        reader = HashingReader(stream)
        # Sending a part again (a resumed upload) replaces it, as S3 does.
        self._write_atomic(folder / str(part_number), _read_chunks(reader))
        return reader.hexdigest()

    def complete_multipart(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        folder = self._upload_dir(key, upload_id)
        ordered = sorted((validate_part_number(n), token) for n, token in parts)
        numbers = [n for n, _ in ordered]
        if not ordered or len(set(numbers)) != len(numbers):
            raise ValueError("parts must be a non-empty list of distinct part numbers")
        paths = [folder / str(n) for n in numbers]
        for path in paths[:-1]:
            if not path.is_file() or path.stat().st_size < MIN_PART_SIZE:
                raise ValueError(f"part {path.name} is missing or smaller than 5 MiB")
        self._write_atomic(self._path(key), self._joined(paths, [t for _, t in ordered]))
        shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def _joined(paths: list[Path], tokens: list[str]) -> Iterator[bytes]:
        """Chunks of the parts in order, checking each against its token as it goes."""
        for path, token in zip(paths, tokens, strict=True):
            digest = hashlib.sha256()
            try:
                f = path.open("rb")
            except FileNotFoundError:
                raise ValueError(f"part {path.name} is missing") from None
            with f:
                for chunk in _read_chunks(f):
                    digest.update(chunk)
                    yield chunk
            if digest.hexdigest() != token:
                raise ValueError(f"part {path.name} does not match its token")

    def abort_multipart(self, key: str, upload_id: str) -> None:
        with suppress(NotFound):
            shutil.rmtree(self._upload_dir(key, upload_id), ignore_errors=True)

    def iter_multipart_uploads(self) -> Iterator[tuple[str, str, datetime]]:
        area = self.root / _MULTIPART
        if not area.is_dir():
            return
        for folder in sorted(area.iterdir()):
            meta = self._read_meta(folder)
            if meta is None or not _UPLOAD_ID_RE.fullmatch(folder.name):
                continue  # half-created; cleanup_temp removes it
            yield meta["key"], folder.name, datetime.fromisoformat(meta["initiated_at"])

    def cleanup_temp(self, before: datetime) -> list[str]:
        removed: list[str] = []
        for dirpath, _dirnames, filenames in os.walk(self.root):
            for name in filenames:
                path = Path(dirpath) / name
                if name.startswith(_TMP_PREFIX) and self._older(path, before):
                    with suppress(FileNotFoundError):
                        path.unlink()
                        removed.append(str(path.relative_to(self.root)))
        area = self.root / _MULTIPART
        if area.is_dir():
            for folder in area.iterdir():
                if self._read_meta(folder) is None and self._older(folder, before):
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(str(folder.relative_to(self.root)))
        return removed

    @staticmethod
    def _older(path: Path, before: datetime) -> bool:
        try:
            return _mtime(path) < before
        except FileNotFoundError:
            return False
