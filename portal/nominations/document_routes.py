"""Documents of a nomination: checklist rows, uploads (whole or in resumable parts),
removal and download by the institution.

The upload row is an htmx fragment: a refused file comes back as the row with the
message beside the file and the refusal's status (413 too large, 422 refused, 409 no
longer editable); a plain form (no JavaScript) gets the one answer of portal.web (a
flash and a 303 back to the row). The resumable uploads of static/js/uploads.js speak
JSON.

Bodies are limited per endpoint before anything reads them (issue 12, point 5): the
blueprint's URL-value preprocessor runs before every before-request hook (the CSRF
check parses a form body, which spools an upload to disk), sets the request's
`max_content_length` to what the endpoint needs (`BODY_LIMITS`) and refuses a larger
Content-Length at once with 413. Streams without a Content-Length are cut off at the
same limit while they are read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from portal.cycles.models import DocumentRequirement
from portal.errors import PortalError
from portal.extensions import db
from portal.listing import parse_date
from portal.nominations import bp, policy, uploads
from portal.nominations.models import ChunkedDocumentUpload, Nomination, NominationDocument
from portal.nominations.routes import LOCKED, load_nomination, nominator_required, viewer_required
from portal.nominations.routes import workspace as workspace_context
from portal.storage import Blob
from portal.storage.handout import blob_item, send_item
from portal.web import FORM_OVERHEAD, back_to, body_limit, handle_portal_error, is_htmx, wants_json

UPLOAD_GONE = _l("This upload is no longer active: it was finished, replaced by another "
                 "file for the same document, or removed after a day. Please choose the "
                 "file again.")


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


# -- request body limits (issue 12, point 5) --------------------------------------------

class BodyTooLarge(uploads.UploadError):
    """A request refused from its Content-Length, before its body was read (413)."""

    status = 413


def _visible(nomination_id: object) -> Nomination | None:
    if not isinstance(nomination_id, int) or not current_user.is_authenticated:
        return None
    return db.session.scalars(policy.nominations_visible_to(current_user).where(
        Nomination.id == nomination_id)).first()


def _upload_limit(values: dict[str, Any]) -> tuple[int, PortalError] | None:
    """One-request upload: the requirement's limit plus the form around the file."""
    nomination = _visible(values.get("nomination_id"))
    requirement = db.session.get(DocumentRequirement, values.get("requirement_id") or 0)
    if nomination is None or requirement is None or requirement.cycle_id != nomination.cycle_id:
        return None
    back_to(_row_url(nomination, requirement))
    too_big = uploads.too_big(requirement)
    return uploads.body_limit(requirement), BodyTooLarge(too_big.message, code="too_large")


def _part_limit(values: dict[str, Any]) -> tuple[int, PortalError] | None:
    """One part of a resumable upload: exactly the part's size."""
    nomination = _visible(values.get("nomination_id"))
    link = uploads.find_chunked(nomination, int(values.get("upload_id") or 0)) \
        if nomination is not None else None
    size = uploads.part_bytes(link.pending, int(values.get("number") or 0)) \
        if link is not None else None
    if size is None:
        return None
    return size, BodyTooLarge(uploads.PART_TOO_BIG, code="too_large")


# endpoint -> the limit of its body and the refusal beyond it (None: the default applies)
BODY_LIMITS: dict[str, Callable[[dict[str, Any]], tuple[int, PortalError] | None]] = {
    "nominations.upload": _upload_limit,
    "nominations.chunk_part": _part_limit,
}


@bp.url_value_preprocessor
def _limit_body(endpoint: str | None, values: dict[str, Any] | None) -> None:
    limit = BODY_LIMITS.get(endpoint or "")
    found = limit(values or {}) if limit is not None else None
    if found is None:
        return
    max_bytes, refusal = found
    request.max_content_length = max_bytes
    g.body_limit = max_bytes  # portal.web.enforce_body_limit keeps it
    if request.content_length is not None and request.content_length > max_bytes:
        raise refusal


@bp.errorhandler(BodyTooLarge)
def _body_too_large(error: BodyTooLarge) -> ResponseReturnValue:
    """The upload row with the message for htmx (as a refused file would get), JSON for
    the parts of resumable uploads; a plain form the one answer (flash, 303 back)."""
    values = request.view_args or {}
    if request.endpoint == "nominations.chunk_part":
        return jsonify(error=str(error.message), code=error.code), error.status
    if is_htmx():
        nomination = _visible(values.get("nomination_id"))
        requirement = db.session.get(DocumentRequirement, values.get("requirement_id") or 0)
        if nomination is not None and requirement is not None:
            return _row(nomination, requirement, error=str(error.message),
                        status=error.status)
    return handle_portal_error(error)


@bp.route("/nominations/<int:nomination_id>/documents/<int:requirement_id>")
@viewer_required
def document_row(nomination_id: int, requirement_id: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    return _row(nomination, _requirement(nomination, requirement_id))


@bp.post("/nominations/<int:nomination_id>/documents/<int:requirement_id>")
@nominator_required
@body_limit(lambda: uploads.chunk_threshold() + FORM_OVERHEAD)  # unknown document: 404
def upload(nomination_id: int, requirement_id: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    requirement = _requirement(nomination, requirement_id)
    if (refusal := _editable_or_refuse(nomination)) is not None:
        return refusal
    back_to(_row_url(nomination, requirement))
    try:
        try:
            file = request.files.get("file")
        except RequestEntityTooLarge as e:  # no Content-Length, cut off at the limit
            raise uploads.too_big(requirement) from e
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
        # Finished, replaced by a newer start for the same document, or swept (404, with
        # a message the script shows).
        raise uploads.UploadError(UPLOAD_GONE, status=404, code="gone")
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
    try:
        link = _chunked(nomination, upload_id)
    except uploads.UploadError as e:
        return _json_error(e)
    return jsonify(_urls(nomination, link, uploads.describe(link)))


@bp.put("/nominations/<int:nomination_id>/uploads/<int:upload_id>/parts/<int:number>")
@nominator_required
@body_limit(lambda: uploads.chunk_threshold() + FORM_OVERHEAD)  # unknown upload: 404
def chunk_part(nomination_id: int, upload_id: int, number: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    if (refusal := _editable_or_refuse(nomination)) is not None:
        return refusal
    try:
        link = _chunked(nomination, upload_id)
        try:
            data = uploads.put_part(link, number, request.stream)
        except RequestEntityTooLarge as e:  # no Content-Length, cut off at the part's size
            raise uploads.UploadError(uploads.PART_TOO_BIG, status=413,
                                      code="too_large") from e
    except uploads.UploadError as e:
        return _json_error(e)
    return jsonify(data)


@bp.post("/nominations/<int:nomination_id>/uploads/<int:upload_id>/complete")
@nominator_required
def chunk_complete(nomination_id: int, upload_id: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    if (refusal := _editable_or_refuse(nomination)) is not None:
        return refusal
    try:
        link = _chunked(nomination, upload_id)
    except uploads.UploadError as e:
        return _json_error(e)
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
    link = uploads.find_chunked(nomination, upload_id)
    if link is not None:  # aborting what is gone already is done
        uploads.abort_chunked(link)
    return "", 204
