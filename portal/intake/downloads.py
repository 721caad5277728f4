"""Staff downloads: one document (attachment, inline preview, or presigned S3 link) and
zips of one dossier or of every nomination in the filtered list.

Every file leaves through portal.storage.handout, which writes its audit row in the
request's transaction; the commit point commits it before the first byte (or the
presigned link) leaves the portal, so the log answers "who downloaded this passport?"
even when the transfer is cut off half-way.
"""

from __future__ import annotations

from flask import Response, abort, flash, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.policy import staff_required
from portal.db import utcnow
from portal.intake import bp
from portal.intake.archive import FileEntry, archive_name, document_entries, stream_zip
from portal.intake.services import Filters, filtered_ids
from portal.nominations.policy import get_visible_nomination_or_404
from portal.storage import get_storage
from portal.storage.handout import Item, send_item, send_zip
from portal.web import see_other


def _entry_or_404(document_id: int) -> FileEntry:
    entries = document_entries(current_user, document_id=document_id)
    if not entries:
        abort(404)  # unknown, not visible, or purged: nothing to hand out
    return entries[0]


@bp.get("/documents/<int:document_id>/download")
@staff_required
def download_document(document_id: int) -> ResponseReturnValue:
    return send_item(_entry_or_404(document_id), actor=current_user)


@bp.get("/documents/<int:document_id>/preview")
@staff_required
def preview_document(document_id: int) -> ResponseReturnValue:
    """The stored (checked) file itself, inline and sandboxed, always through the portal
    (S3 would serve it without the sandbox)."""
    return send_item(_entry_or_404(document_id), actor=current_user, inline=True)


def _zip(entries: list[FileEntry], name: str) -> Response:
    items: list[Item] = [*entries]
    return send_zip(items, name, stream_zip(get_storage(), entries), actor=current_user)


@bp.get("/<int:nomination_id>/dossier.zip")
@staff_required
def dossier_zip(nomination_id: int) -> ResponseReturnValue:
    nomination = get_visible_nomination_or_404(current_user, nomination_id)
    entries = document_entries(current_user, nomination_ids=[nomination.id])
    if not entries:
        flash(_("This nomination has no documents to download."), "warning")
        return see_other("intake.detail", nomination_id=nomination.id)
    name = archive_name(nomination.reference, nomination.family_name, nomination.given_names)
    return _zip(entries, name)


@bp.get("/export.zip")
@staff_required
def export_zip() -> ResponseReturnValue:
    """Every document of every nomination the filtered list shows (all pages)."""
    filters = Filters.from_args(request.args)
    entries = document_entries(current_user, nomination_ids=filtered_ids(current_user, filters))
    if not entries:
        flash(_("The nominations in this list have no documents to download."), "warning")
        return see_other("intake.index", **filters.args(page=1))
    return _zip(entries, archive_name("nominations", f"{utcnow():%Y%m%d-%H%M}"))
