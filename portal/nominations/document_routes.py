"""Documents of a nomination: checklist rows, uploads (whole or in resumable parts),
removal and download by the institution.

The upload row is an htmx fragment: a refused file comes back as the row with the
message beside the file and the refusal's status (413 too large, 422 refused, 409 no
longer editable); a plain form (no JavaScript) gets the one answer of portal.web (a
flash and a 303 back to the row). The resumable uploads of static/js/uploads.js speak
JSON.
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from portal.cycles.models import DocumentRequirement
from portal.extensions import db
from portal.listing import parse_date
from portal.nominations import bp, policy, uploads
from portal.nominations.models import ChunkedDocumentUpload, Nomination, NominationDocument
from portal.nominations.routes import LOCKED, load_nomination, nominator_required, viewer_required
from portal.nominations.routes import workspace as workspace_context
from portal.storage import Blob
from portal.storage.handout import blob_item, send_item
from portal.web import FORM_OVERHEAD, back_to, body_limit, is_htmx, wants_json


def _requirement(nomination: Nomination, requirement_id: int) -> DocumentRequirement:
    requirement = db.session.get(DocumentRequirement, requirement_id)
    if requirement is None or requirement.cycle_id != nomination.cycle_id:
        abort(404)
    return requirement


def _row(nomination: Nomination, requirement: DocumentRequirement, *, error: str | None = None,
         notice: str | None = None, status: int = 200) -> ResponseReturnValue:
    """The checklist row alone; `notice` is what screen readers announce (uploads.js)."""
    ctx = workspace_context(nomination)
    row = next(r for r in ctx["checklist"].rows if r.requirement.id == requirement.id)
    html = render_template("nominations/_doc_row.html", row=row, error=error, notice=notice,
                           **ctx)
    # The status panel listens for this and reloads (complete? ready to submit?).
    return html, status, {"HX-Trigger": "nomination-changed"}


def _row_url(nomination: Nomination, requirement: DocumentRequirement) -> str:
    return url_for("nominations.show", nomination_id=nomination.id,
                   _anchor=f"req-{requirement.id}")


def _done(nomination: Nomination, requirement: DocumentRequirement,
          message: str) -> ResponseReturnValue:
    """htmx/JS callers get the row; plain forms a redirect to it."""
    if is_htmx():
        return _row(nomination, requirement, notice=message)
    flash(message, "success")
    return redirect(_row_url(nomination, requirement), 303)


def _editable_or_refuse(nomination: Nomination) -> ResponseReturnValue | None:
    if policy.may_edit(current_user, nomination):
        return None
    message = str(LOCKED)
    show = url_for("nominations.show", nomination_id=nomination.id)
    if is_htmx() or wants_json():
        # htmx follows HX-Redirect to the (now read-only) page; uploads.js shows `error`.
        return jsonify(error=message), 409, {"HX-Redirect": show}
    flash(message, "warning")
    return redirect(show, 303)


@bp.route("/nominations/<int:nomination_id>/documents/<int:requirement_id>")
@viewer_required
def document_row(nomination_id: int, requirement_id: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    return _row(nomination, _requirement(nomination, requirement_id))


def _upload_body_limit() -> int:
    """The requirement's file limit plus the form around it (read before the body)."""
    requirement = db.session.get(DocumentRequirement,
                                 (request.view_args or {}).get("requirement_id", 0))
    return (uploads.limit_bytes(requirement) if requirement else 0) + FORM_OVERHEAD


@bp.post("/nominations/<int:nomination_id>/documents/<int:requirement_id>")
@nominator_required
@body_limit(_upload_body_limit)
def upload(nomination_id: int, requirement_id: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    requirement = _requirement(nomination, requirement_id)
    if (refusal := _editable_or_refuse(nomination)) is not None:
        return refusal
    back_to(_row_url(nomination, requirement))
    file = request.files.get("file")
    try:
        uploads.upload(nomination, requirement, file.stream if file else None,
                       file.filename if file else None, current_user,
                       expires_on=parse_date(request.form.get("expires_on")),
                       issued_on=parse_date(request.form.get("issued_on")))
    except uploads.UploadError as e:
        if not is_htmx():
            raise  # a plain form: flash and back to the row
        return _row(nomination, requirement, error=str(e.message), status=e.status)
    return _done(nomination, requirement, _("%(label)s uploaded.", label=requirement.label))


@bp.post("/nominations/<int:nomination_id>/documents/<int:requirement_id>/remove")
@nominator_required
def remove_document(nomination_id: int, requirement_id: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    requirement = _requirement(nomination, requirement_id)
    if (refusal := _editable_or_refuse(nomination)) is not None:
        return refusal
    uploads.remove(nomination, requirement, current_user)
    return _done(nomination, requirement, _("%(label)s removed.", label=requirement.label))


@bp.route("/nominations/<int:nomination_id>/documents/<int:requirement_id>/file")
@viewer_required
def download_document(nomination_id: int, requirement_id: int) -> ResponseReturnValue:
    """The file as an attachment, for the institution (and staff); always logged."""
    nomination = load_nomination(nomination_id)
    document = db.session.scalars(
        policy.documents_visible_to(current_user).where(
            NominationDocument.nomination_id == nomination.id,
            NominationDocument.requirement_id == requirement_id)).first()
    blob = db.session.get(Blob, document.blob_id) if document is not None else None
    if blob is None:
        abort(404)
    item = blob_item(blob, details={"nomination_id": nomination.id,
                                    "requirement_id": requirement_id})
    return send_item(item, actor=current_user)


# -- resumable uploads (static/js/uploads.js) ------------------------------------------

def _chunked(nomination: Nomination, upload_id: int) -> ChunkedDocumentUpload:
    link = uploads.find_chunked(nomination, upload_id)
    if link is None:
        abort(404)
    return link


def _json_error(e: uploads.UploadError) -> ResponseReturnValue:
    return jsonify(error=str(e.message)), e.status


def _urls(nomination: Nomination, link: ChunkedDocumentUpload,
          data: dict[str, object]) -> dict[str, object]:
    data["status_url"] = url_for("nominations.chunk_status", nomination_id=nomination.id,
                                 upload_id=link.id)
    data["part_url"] = url_for("nominations.chunk_part", nomination_id=nomination.id,
                               upload_id=link.id, number=0)[:-1]
    data["complete_url"] = url_for("nominations.chunk_complete", nomination_id=nomination.id,
                                   upload_id=link.id)
    return data


@bp.post("/nominations/<int:nomination_id>/documents/<int:requirement_id>/uploads")
@nominator_required
def chunk_start(nomination_id: int, requirement_id: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    requirement = _requirement(nomination, requirement_id)
    if (refusal := _editable_or_refuse(nomination)) is not None:
        return refusal
    try:
        uploads.check_dates(requirement, parse_date(request.form.get("expires_on")),
                            parse_date(request.form.get("issued_on")))
        link = uploads.start_chunked(
            nomination, requirement, filename=request.form.get("filename", ""),
            size=request.form.get("size", type=int) or 0,
            fingerprint=request.form.get("fingerprint", ""), actor=current_user)
    except uploads.UploadError as e:
        return _json_error(e)
    return jsonify(_urls(nomination, link, uploads.describe(link))), 201


@bp.route("/nominations/<int:nomination_id>/uploads/<int:upload_id>")
@nominator_required
def chunk_status(nomination_id: int, upload_id: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    link = _chunked(nomination, upload_id)
    return jsonify(_urls(nomination, link, uploads.describe(link)))


@bp.put("/nominations/<int:nomination_id>/uploads/<int:upload_id>/parts/<int:number>")
@nominator_required
@body_limit(lambda: uploads.chunk_threshold() + FORM_OVERHEAD)
def chunk_part(nomination_id: int, upload_id: int, number: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    if (refusal := _editable_or_refuse(nomination)) is not None:
        return refusal
    link = _chunked(nomination, upload_id)
    try:
        data = uploads.put_part(link, number, request.stream)
    except uploads.UploadError as e:
        return _json_error(e)
    return jsonify(data)


@bp.post("/nominations/<int:nomination_id>/uploads/<int:upload_id>/complete")
@nominator_required
def chunk_complete(nomination_id: int, upload_id: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    if (refusal := _editable_or_refuse(nomination)) is not None:
        return refusal
    link = _chunked(nomination, upload_id)
    requirement = _requirement(nomination, link.requirement_id)
    try:
        uploads.complete_chunked(nomination, requirement, link, current_user,
                                 expires_on=parse_date(request.form.get("expires_on")),
                                 issued_on=parse_date(request.form.get("issued_on")))
    except uploads.UploadError as e:
        # Answered, not raised: a refused file is gone for good (the service discarded its
        # parts), and the request's commit keeps that.
        return _row(nomination, requirement, error=str(e.message), status=e.status)
    return _row(nomination, requirement,
                notice=_("%(label)s uploaded.", label=requirement.label))


@bp.post("/nominations/<int:nomination_id>/uploads/<int:upload_id>/abort")
@nominator_required
def chunk_abort(nomination_id: int, upload_id: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    link = _chunked(nomination, upload_id)
    uploads.abort_chunked(link)
    return "", 204
