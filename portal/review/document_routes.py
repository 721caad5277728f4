"""Reviewers' files: one document (attachment or sandboxed inline preview), the dossier as
a zip, and the export of their own reviews.

Every document answer starts from portal.review.policy.visible_assignment_or_404 (via
portal.review.documents): another reviewer's dossier, a conflicted one, one returned to
its institution or one after the decisions are published answers 404, whatever the URL.
"""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue

from portal.accounts.models import Role
from portal.accounts.policy import current_account, role_required
from portal.listing import int_param
from portal.review import bp, documents, exports
from portal.storage import get_storage
from portal.storage.handout import send_generated, send_item, send_zip
from portal.storage.zips import stream_zip

reviewer_required = role_required(Role.REVIEWER)


@bp.get("/review/<int:nomination_id>/documents/<int:document_id>")
@reviewer_required
def document(nomination_id: int, document_id: int) -> ResponseReturnValue:
    """The file as an attachment, named "<requirement label>.<ext>"; PDFs as the
    reviewers' copy without metadata."""
    user = current_account()
    return send_item(documents.document_file(user, nomination_id, document_id), actor=user)


@bp.get("/review/<int:nomination_id>/documents/<int:document_id>/preview")
@reviewer_required
def document_preview(nomination_id: int, document_id: int) -> ResponseReturnValue:
    """The same file inline, sandboxed, always through the portal (for pdf.js and <img>)."""
    user = current_account()
    return send_item(documents.document_file(user, nomination_id, document_id), actor=user,
                     inline=True)


@bp.get("/review/<int:nomination_id>/documents.zip")
@reviewer_required
def dossier_zip(nomination_id: int) -> ResponseReturnValue:
    user = current_account()
    name, files = documents.dossier_files(user, nomination_id)
    return send_zip(list(files), name, stream_zip(get_storage(), files), actor=user)


@bp.get("/review/my-reviews/export.<any(csv, xlsx):fmt>")
@reviewer_required
def my_reviews_export(fmt: str) -> ResponseReturnValue:
    user = current_account()
    export = exports.export_own_reviews(user, fmt, int_param(request.args, "cycle"))
    return send_generated(export.data, export.filename, export.mimetype)
