"""Staff downloads: one document (attachment, inline preview, or presigned S3 link) and
zips of one dossier or of every nomination in the filtered list.

Every file handed out is written to the audit log and committed before the first byte
(or the presigned link) leaves the portal: the log answers "who downloaded this
passport?" even when the transfer is cut off half-way.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.policy import staff_required
from portal.db import utcnow
from portal.extensions import db
from portal.intake import bp
from portal.intake.archive import (
    FileEntry,
    archive_name,
    document_entries,
    log_downloads,
    stream_zip,
)
from portal.intake.services import Filters, filtered_ids
from portal.nominations.policy import get_visible_nomination_or_404
from portal.storage import NotFound, content_disposition, get_storage
from portal.storage.base import MAX_URL_SECONDS

# Inline previews run in a sandbox: no scripts, no forms, no plugins, a unique origin,
# so even a file that slipped past the checks cannot act as the portal. Framing stays
# limited to our own pages.
PREVIEW_CSP = "sandbox; frame-ancestors 'self'"


def _entry_or_404(document_id: int) -> FileEntry:
    entries = document_entries(current_user, document_id=document_id)
    if not entries:
        abort(404)  # unknown, not visible, or purged: nothing to hand out
    return entries[0]


def _open_or_404(entry: FileEntry) -> Iterator[bytes]:
    try:
        return get_storage().open(entry.key)
    except NotFound:
        abort(404)


def _file_response(chunks: Iterator[bytes], entry: FileEntry, *, inline: bool) -> Response:
    response = Response(chunks, mimetype=entry.content_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(entry.size)
    response.headers["Content-Disposition"] = content_disposition(entry.name, inline=inline)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/documents/<int:document_id>/download")
@staff_required
def download_document(document_id: int) -> Response:
    entry = _entry_or_404(document_id)
    storage = get_storage()
    url = storage.url_for_download(entry.key, entry.name, entry.content_type,
                                   expires=MAX_URL_SECONDS)
    if url:
        # The browser fetches the file from S3 itself; issuing the link is the hand-out.
        log_downloads([entry], "presigned_url")
        db.session.commit()
        response = redirect(url, 302)
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    chunks = _open_or_404(entry)
    log_downloads([entry], "attachment")
    db.session.commit()
    return _file_response(chunks, entry, inline=False)


@bp.get("/documents/<int:document_id>/preview")
@staff_required
def preview_document(document_id: int) -> Response:
    """The stored (checked) file itself, inline, always through the portal so that the
    sandbox policy travels with it (S3 would serve it without)."""
    entry = _entry_or_404(document_id)
    chunks = _open_or_404(entry)
    log_downloads([entry], "preview")
    db.session.commit()
    response = _file_response(chunks, entry, inline=True)
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    return response


def _zip_response(entries: list[FileEntry], name: str) -> Response:
    log_downloads(entries, "zip", archive=name)
    db.session.commit()  # logged before streaming starts
    response = Response(stream_zip(get_storage(), entries), mimetype="application/zip",
                        direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # Tell proxies (nginx) to pass the stream on as it comes instead of buffering it.
    response.headers["X-Accel-Buffering"] = "no"
    return response


@bp.get("/<int:nomination_id>/dossier.zip")
@staff_required
def dossier_zip(nomination_id: int) -> Response:
    nomination = get_visible_nomination_or_404(current_user, nomination_id)
    entries = document_entries(current_user, nomination_ids=[nomination.id])
    if not entries:
        flash(_("This nomination has no documents to download."), "warning")
        return redirect(url_for("intake.detail", nomination_id=nomination.id), 303)
    name = archive_name(nomination.reference, nomination.family_name, nomination.given_names)
    return _zip_response(entries, name)


@bp.get("/export.zip")
@staff_required
def export_zip() -> Response:
    """Every document of every nomination the filtered list shows (all pages)."""
    filters = Filters.from_args(request.args)
    entries = document_entries(current_user, nomination_ids=filtered_ids(current_user, filters))
    if not entries:
        flash(_("The nominations in this list have no documents to download."), "warning")
        return redirect(url_for("intake.index", **filters.args(page=1)), 303)
    name = archive_name("nominations", f"{utcnow():%Y%m%d-%H%M}")
    return _zip_response(entries, name)
