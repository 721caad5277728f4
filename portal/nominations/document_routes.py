"""Documents of a nomination: checklist rows, uploads (whole or in resumable parts),
removal and download by the institution."""

from __future__ import annotations

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.audit.services import record
from portal.cycles.models import DocumentRequirement
from portal.extensions import db
from portal.nominations import bp, policy, services, uploads
from portal.nominations.models import Nomination, NominationDocument
from portal.nominations.routes import load_nomination, nominator_required, viewer_required
from portal.nominations.routes import workspace as workspace_context
from portal.storage import Blob, NotFound, content_disposition, get_storage
from portal.web import is_htmx


def _requirement(nomination: Nomination, requirement_id: int) -> DocumentRequirement:
    requirement = db.session.get(DocumentRequirement, requirement_id)
    if requirement is None or requirement.cycle_id != nomination.cycle_id:
        abort(404)
    return requirement


def _row(nomination: Nomination, requirement: DocumentRequirement, *, error: str | None = None,
         notice: str | None = None, status: int = 200):  # noqa: ANN202
    """The checklist row alone; `notice` is what screen readers announce (uploads.js)."""
    ctx = workspace_context(nomination)
    row = next(r for r in ctx["checklist"].rows if r.requirement.id == requirement.id)
    html = render_template("nominations/_doc_row.html", row=row, error=error, notice=notice,
                           **ctx)
    # The status panel listens for this and reloads (complete? ready to submit?).
    return html, status, {"HX-Trigger": "nomination-changed"}


def _done(nomination: Nomination, requirement: DocumentRequirement, message: str,
          category: str, status: int = 200):  # noqa: ANN202
    """htmx/JS callers get the row; plain forms a redirect (or the page on errors)."""
    if is_htmx():
        if category == "error":
            return _row(nomination, requirement, error=message, status=status)
        return _row(nomination, requirement, notice=message, status=status)
    flash(message, category)
    return redirect(url_for("nominations.show", nomination_id=nomination.id,
                            _anchor=f"req-{requirement.id}"), 303)


def _editable_or_refuse(nomination: Nomination):  # noqa: ANN202
    if policy.may_edit(current_user, nomination):
        return None
    message = _("This nomination has been submitted and can no longer be changed.")
    if is_htmx() or request.accept_mimetypes.best == "application/json":
        # htmx follows HX-Redirect to the (now read-only) page; uploads.js shows `error`.
        show = url_for("nominations.show", nomination_id=nomination.id)
        return jsonify(error=message), 409, {"HX-Redirect": show}
    flash(message, "warning")
    return redirect(url_for("nominations.show", nomination_id=nomination.id), 303)


def _dates() -> dict:
    return {"expires_on": services.parse_date(request.form.get("expires_on")),
            "issued_on": services.parse_date(request.form.get("issued_on"))}


@bp.route("/nominations/<int:nomination_id>/documents/<int:requirement_id>")
@viewer_required
def document_row(nomination_id: int, requirement_id: int):
    nomination = load_nomination(nomination_id)
    return _row(nomination, _requirement(nomination, requirement_id))


@bp.post("/nominations/<int:nomination_id>/documents/<int:requirement_id>")
@nominator_required
def upload(nomination_id: int, requirement_id: int):
    nomination = load_nomination(nomination_id)
    requirement = _requirement(nomination, requirement_id)
    if (refusal := _editable_or_refuse(nomination)) is not None:
        return refusal
    file = request.files.get("file")
    if file is None or not file.filename:
        return _done(nomination, requirement, _("Choose a file to upload."), "error", 422)
    try:
        uploads.upload(nomination, requirement, file.stream, file.filename, current_user,
                       **_dates())
    except uploads.UploadError as e:
        db.session.rollback()
        return _done(nomination, requirement, str(e.message), "error", 422)
    db.session.commit()
    return _done(nomination, requirement,
                 _("%(label)s uploaded.", label=requirement.label), "success")


@bp.post("/nominations/<int:nomination_id>/documents/<int:requirement_id>/remove")
@nominator_required
def remove_document(nomination_id: int, requirement_id: int):
    nomination = load_nomination(nomination_id)
    requirement = _requirement(nomination, requirement_id)
    if (refusal := _editable_or_refuse(nomination)) is not None:
        return refusal
    document = db.session.scalars(select(NominationDocument).where(
        NominationDocument.nomination_id == nomination.id,
        NominationDocument.requirement_id == requirement.id)).first()
    if document is not None:
        uploads.remove(nomination, document, current_user)
        db.session.commit()
    return _done(nomination, requirement, _("%(label)s removed.", label=requirement.label),
                 "success")


@bp.route("/nominations/<int:nomination_id>/documents/<int:requirement_id>/file")
@viewer_required
def download_document(nomination_id: int, requirement_id: int):
    """The file as an attachment, for the institution (and staff); always logged."""
    nomination = load_nomination(nomination_id)
    document = db.session.scalars(
        policy.documents_visible_to(current_user).where(
            NominationDocument.nomination_id == nomination.id,
            NominationDocument.requirement_id == requirement_id)).first()
    blob = db.session.get(Blob, document.blob_id) if document is not None else None
    if blob is None or blob.purged_at is not None:
        abort(404)
    blob_id, key, name, mime, size = (blob.id, blob.key, blob.download_name,
                                      blob.content_type, blob.size)
    # End the reading transaction first: on SQLite a read snapshot cannot become a write
    # once another request has written; a fresh transaction waits for the lock instead.
    db.session.commit()
    record("document.downloaded", object_type="blob", object_id=blob_id,
           details={"nomination_id": nomination_id, "requirement_id": requirement_id,
                    "name": name})
    db.session.commit()  # logged before the file is handed out
    storage = get_storage()
    url = storage.url_for_download(key, name, mime)
    if url:
        return redirect(url, 303)
    try:
        chunks = storage.open(key)
    except NotFound:
        abort(404)
    response = Response(chunks, mimetype=mime, direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- resumable uploads (static/js/uploads.js) ------------------------------------------

def _chunked(nomination: Nomination, upload_id: int):  # noqa: ANN202
    link = uploads.find_chunked(nomination, upload_id)
    if link is None:
        abort(404)
    return link


def _json_error(e: uploads.UploadError):  # noqa: ANN202
    return jsonify(error=str(e.message)), e.status


@bp.post("/nominations/<int:nomination_id>/documents/<int:requirement_id>/uploads")
@nominator_required
def chunk_start(nomination_id: int, requirement_id: int):
    nomination = load_nomination(nomination_id)
    requirement = _requirement(nomination, requirement_id)
    if (refusal := _editable_or_refuse(nomination)) is not None:
        return refusal
    try:
        uploads.check_dates(requirement, **_dates())
        link = uploads.start_chunked(
            nomination, requirement, filename=request.form.get("filename", ""),
            size=request.form.get("size", type=int) or 0,
            fingerprint=request.form.get("fingerprint", ""), actor=current_user)
    except uploads.UploadError as e:
        db.session.rollback()
        return _json_error(e)
    db.session.commit()
    return jsonify(_urls(nomination, link, uploads.describe(link))), 201


def _urls(nomination: Nomination, link, data: dict) -> dict:  # noqa: ANN001
    data["status_url"] = url_for("nominations.chunk_status", nomination_id=nomination.id,
                                 upload_id=link.id)
    data["part_url"] = url_for("nominations.chunk_part", nomination_id=nomination.id,
                               upload_id=link.id, number=0)[:-1]
    data["complete_url"] = url_for("nominations.chunk_complete", nomination_id=nomination.id,
                                   upload_id=link.id)
    return data


@bp.route("/nominations/<int:nomination_id>/uploads/<int:upload_id>")
@nominator_required
def chunk_status(nomination_id: int, upload_id: int):
    nomination = load_nomination(nomination_id)
    link = _chunked(nomination, upload_id)
    return jsonify(_urls(nomination, link, uploads.describe(link)))


@bp.put("/nominations/<int:nomination_id>/uploads/<int:upload_id>/parts/<int:number>")
@nominator_required
def chunk_part(nomination_id: int, upload_id: int, number: int):
    nomination = load_nomination(nomination_id)
    if (refusal := _editable_or_refuse(nomination)) is not None:
        return refusal
    link = _chunked(nomination, upload_id)
    try:
        data = uploads.put_part(link, number, request.stream)
    except uploads.UploadError as e:
        db.session.rollback()
        return _json_error(e)
    db.session.commit()
    return jsonify(data)


@bp.post("/nominations/<int:nomination_id>/uploads/<int:upload_id>/complete")
@nominator_required
def chunk_complete(nomination_id: int, upload_id: int):
    nomination = load_nomination(nomination_id)
    if (refusal := _editable_or_refuse(nomination)) is not None:
        return refusal
    link = _chunked(nomination, upload_id)
    requirement = _requirement(nomination, link.requirement_id)
    try:
        uploads.complete_chunked(nomination, requirement, link, current_user, **_dates())
    except uploads.UploadError as e:
        # A refused file is gone for good (its parts were discarded): keep that.
        db.session.commit()
        return _row(nomination, requirement, error=str(e.message), status=e.status)
    db.session.commit()
    return _row(nomination, requirement,
                notice=_("%(label)s uploaded.", label=requirement.label))


@bp.post("/nominations/<int:nomination_id>/uploads/<int:upload_id>/abort")
@nominator_required
def chunk_abort(nomination_id: int, upload_id: int):
    nomination = load_nomination(nomination_id)
    link = _chunked(nomination, upload_id)
    uploads.abort_chunked(link)
    db.session.commit()
    return "", 204
