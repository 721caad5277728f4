"""Handing out files: materials (logged before they leave), calendar files, certificates."""

from __future__ import annotations

from flask import Response, abort, redirect

from portal.audit.services import record
from portal.events.models import EventMaterial
from portal.extensions import db
from portal.storage import NotFound, content_disposition, get_storage


def send_material(material: EventMaterial, *, who: str) -> Response:
    """The file as an attachment; the audit row is committed before it is handed out.
    `material.blob` must be loaded. `who` says how the person was let in."""
    blob = material.blob
    if blob is None or blob.purged_at is not None:
        abort(404)
    record("document.downloaded", object_type="blob", object_id=blob.id,
           details={"event_id": material.event_id, "material_id": material.id,
                    "name": blob.download_name, "as": who})
    db.session.commit()
    storage = get_storage()
    url = storage.url_for_download(blob.key, blob.download_name, blob.content_type)
    if url:
        return redirect(url, 303)
    try:
        chunks = storage.open(blob.key)
    except NotFound:
        abort(404)
    response = Response(chunks, mimetype=blob.content_type, direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition(blob.download_name)
    response.headers["Content-Length"] = str(blob.size)
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def send_bytes(data: bytes, filename: str, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
