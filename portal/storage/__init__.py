"""File storage: the backend chosen by configuration, and storing a checked upload."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import IO, Any, cast

from flask import current_app

from portal.db import new_key
from portal.extensions import db
from portal.storage.base import (
    CHUNK,
    FileView,
    InvalidKey,
    NotFound,
    Storage,
    content_disposition,
)
from portal.storage.checks import (
    KINDS,
    CheckedFile,
    FileRejected,
    FileTooLarge,
    inspect_file,
    limited_file,
    sniff_kind,
    stored_as_sent,
)
from portal.storage.local import LocalStorage
from portal.storage.models import Blob, PendingUpload
from portal.storage.s3 import S3Storage

__all__ = [
    "Blob",
    "CheckedFile",
    "FileRejected",
    "FileTooLarge",
    "InvalidKey",
    "LocalStorage",
    "NotFound",
    "PendingUpload",
    "S3Storage",
    "Storage",
    "build_storage",
    "clean_filename",
    "content_disposition",
    "get_storage",
    "store_upload",
]

DEFAULT_LOCAL_ROOT = Path(__file__).resolve().parents[2] / "uploads"


def build_storage(config: Mapping[str, Any]) -> Storage:
    """A backend from settings (the keys of portal.config, as found in app.config)."""
    backend = str(config.get("STORAGE") or config.get("PORTAL_STORAGE") or "local").lower()
    if backend == "local":
        return LocalStorage(config.get("STORAGE_LOCAL_ROOT") or DEFAULT_LOCAL_ROOT)
    if backend == "s3":
        if not config.get("S3_BUCKET"):
            raise ValueError("S3_BUCKET must be set when the storage is s3")
        return S3Storage(
            bucket=config["S3_BUCKET"],
            endpoint_url=config.get("S3_ENDPOINT_URL") or None,
            region=config.get("S3_REGION") or None,
            access_key=config.get("S3_ACCESS_KEY_ID") or None,
            secret_key=config.get("S3_SECRET_ACCESS_KEY") or None,
            public_endpoint_url=config.get("S3_PUBLIC_ENDPOINT_URL") or None,
            create_bucket=bool(config.get("S3_CREATE_BUCKET", False)),
        )
    raise ValueError(f"unknown storage backend {backend!r} (expected local or s3)")


def get_storage() -> Storage:
    """The application's storage, built on first use and kept for the app's lifetime."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    storage = app.extensions.get("storage")
    if storage is None:
        storage = app.extensions["storage"] = build_storage(app.config)
    return storage


def clean_filename(name: str | None, fallback_extension: str = "") -> str:
    """A file name safe to keep and show: no folders, control or direction-override
    characters (which can disguise "exe.pdf" as "fdp.exe"), at most 255 characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cc", "Cf"})
    name = " ".join(name.split()).strip(" .")
    if not name:
        return "file" + fallback_extension
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = stem[: 254 - len(ext)] + dot + ext if dot and len(ext) < 20 else name[:255]
    return name


def store_upload(
    stream: IO[bytes],
    *,
    original_name: str | None,
    allowed: set[str],
    max_bytes: int,
    user_id: int | None,
) -> Blob:
    """Check an uploaded file, store it, and add its Blob row to the session (flushed,
    not committed: the route commits). Raises FileRejected / FileTooLarge for the user.

    If the commit later fails, the stored file has no row; the sweep removes it.
    """
    storage = get_storage()
    key = new_key()
    with limited_file(stream, max_bytes) as upload:
        kind = sniff_kind(upload, allowed)  # a wrong type is refused before any write
        view = FileView.of(upload, CHUNK) if stored_as_sent(kind) else None
        if view is not None:
            checked, size, sha256 = _store_while_checking(storage, upload, view, key,
                                                          allowed, KINDS[kind].content_type)
        else:
            checked = inspect_file(upload, allowed)
            try:
                size, sha256 = storage.put(checked.fileobj, key,
                                           content_type=checked.content_type)
            finally:
                if checked.fileobj is not upload:
                    checked.fileobj.close()
    blob = Blob(
        key=key,
        size=size,
        sha256=sha256,
        content_type=checked.content_type,
        original_name=clean_filename(original_name, checked.extension),
        created_by_id=user_id,
    )
    db.session.add(blob)
    try:
        db.session.flush()
    except Exception:
        with suppress(Exception):  # best effort; otherwise the sweep gets it
            storage.delete(key)
        raise
    return blob


def _store_while_checking(storage: Storage, upload: IO[bytes], view: FileView, key: str,
                          allowed: set[str], content_type: str,
                          ) -> tuple[CheckedFile, int, str]:
    """Store a file that is kept as sent while it is being checked.

    The write (mostly waiting on the network or the disk) and the checks (mostly CPU)
    overlap, so a big scan takes about the longer of the two instead of their sum. A
    refused file is deleted again before the refusal reaches the user; should that
    delete fail, the sweep removes the blob, which has no row.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        stored = pool.submit(storage.put, cast(IO[bytes], view), key,
                             content_type=content_type)
        try:
            checked = inspect_file(upload, allowed)
        except BaseException:
            with suppress(Exception):
                stored.result()
            with suppress(Exception):
                storage.delete(key)
            raise
        size, sha256 = stored.result()
    return checked, size, sha256
