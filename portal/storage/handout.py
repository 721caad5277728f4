"""Handing files out: the one way every document, material, zip or generated file leaves.

Each file handed out is written to the audit log as "document.downloaded" in the request's
transaction; the commit point (portal.transaction) commits it when the view returns,
which is before the first byte of the body or the presigned link reaches the browser, so
the log answers "who downloaded this passport?" even when the transfer is cut off.

Every answer carries the same headers: `Content-Disposition` (attachment, or inline for
previews), `X-Content-Type-Options: nosniff`, `Cache-Control: private, no-store`, and a
sandbox CSP, so even a file that slipped past the checks cannot act as the portal. On S3
an attachment is a 303 to a presigned URL valid for at most 60 seconds (no Referer is
sent along); previews always pass through the portal so the sandbox travels with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Response, abort, redirect
from werkzeug.wrappers import Response as BaseResponse

from portal.audit.services import record
from portal.storage import NotFound, content_disposition, get_storage
from portal.storage.base import MAX_URL_SECONDS
from portal.storage.models import Blob

if TYPE_CHECKING:
    from portal.accounts.models import User

# Previews are framed by our own pages; attachments need no framing at all.
PREVIEW_CSP = "sandbox; frame-ancestors 'self'"
ATTACHMENT_CSP = "sandbox"
PRESIGNED_STATUS = 303


@dataclass(frozen=True)
class Item:
    """One stored file as it is handed out, and what the audit row says about it."""

    key: str
    name: str  # the name the receiver sees (never the storage key)
    content_type: str
    size: int
    object_type: str  # what the audit row points at: "document", "blob", ...
    object_id: object
    details: dict[str, Any] = field(default_factory=dict)


def blob_item(blob: Blob, *, name: str | None = None, object_type: str = "blob",
              object_id: object = None, details: dict[str, Any] | None = None) -> Item:
    """An item for a blob; a purged blob (file deleted after retention) is a 404."""
    if blob.purged_at is not None:
        abort(404)
    return Item(key=blob.key, name=name or blob.download_name, content_type=blob.content_type,
                size=blob.size, object_type=object_type,
                object_id=blob.id if object_id is None else object_id,
                details={"name": name or blob.download_name, **(details or {})})


def log_handout(items: Iterable[Item], how: str, *, actor: User | None,
                archive: str | None = None) -> None:
    """One audit row per file handed out (in the current transaction)."""
    for item in items:
        details: dict[str, Any] = {**item.details, "size": item.size, "how": how}
        if archive:
            details["archive"] = archive
        record("document.downloaded", actor=actor, object_type=item.object_type,
               object_id=item.object_id, details=details)


def _headers(response: Response, name: str, *, inline: bool) -> Response:
    # The security baseline (portal.security) leaves a CSP set here as it is.
    response.headers["Content-Disposition"] = content_disposition(name, inline=inline)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = PREVIEW_CSP if inline else ATTACHMENT_CSP
    return response


def send_item(item: Item, *, actor: User | None, inline: bool = False,
              how: str | None = None) -> BaseResponse:
    """The file as an attachment (or inline preview), logged; 404 if the blob is gone."""
    storage = get_storage()
    if not inline:
        url = storage.url_for_download(item.key, item.name, item.content_type,
                                       expires=MAX_URL_SECONDS)
        if url:
            # The browser fetches the file from S3 itself; issuing the link is the hand-out.
            log_handout([item], how or "presigned_url", actor=actor)
            response = redirect(url, PRESIGNED_STATUS)
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Cache-Control"] = "private, no-store"
            return response
    try:
        chunks = storage.open(item.key)
    except NotFound:
        abort(404)
    log_handout([item], how or ("preview" if inline else "attachment"), actor=actor)
    response = Response(chunks, mimetype=item.content_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(item.size)
    return _headers(response, item.name, inline=inline)


def send_zip(items: list[Item], name: str, chunks: Iterator[bytes], *,
             actor: User | None) -> Response:
    """A streamed zip of `items` (`chunks` produces it); every member logged first."""
    log_handout(items, "zip", actor=actor, archive=name)
    response = Response(chunks, mimetype="application/zip", direct_passthrough=True)
    # Tell proxies (nginx) to pass the stream on as it comes instead of buffering it.
    response.headers["X-Accel-Buffering"] = "no"
    return _headers(response, name, inline=False)


def send_generated(data: bytes, filename: str, mimetype: str, *,
                   inline: bool = False) -> Response:
    """A file the portal makes on request (certificate, calendar file, export)."""
    response = Response(data, mimetype=mimetype)
    return _headers(response, filename, inline=inline)
