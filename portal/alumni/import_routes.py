"""Staff: import alumni from a spreadsheet in three steps (upload, columns, preview).

The uploaded file waits in the storage under a random key between the steps; the pages
pass a signed, time-limited reference to it (never the file itself, never in the session
cookie). Files nobody imports are removed by the storage sweep (no row points to them).
"""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

from flask import abort, current_app, flash, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer

from portal.accounts.policy import current_account, staff_required
from portal.alumni import bp
from portal.alumni.forms import ConfirmForm, UploadForm, mapping_form
from portal.alumni.importer import (
    TARGETS,
    ImportRefused,
    Table,
    guess_mapping,
    mapping_problems,
    max_bytes,
    parse_rows,
    read_table,
)
from portal.alumni.matching import run_import
from portal.db import new_key
from portal.storage import clean_filename, get_storage
from portal.storage.base import NotFound
from portal.storage.checks import FileTooLarge, spool_limited
from portal.transaction import discard
from portal.web import FORM_OVERHEAD, body_limit, see_other

STAGE_SECONDS = 12 * 3600  # a started import can be finished within this time


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.secret_key), salt="alumni-import")


def stage_file(data: bytes, filename: str, encoding: str, user_id: int) -> str:
    """Keep the file in the storage; return the signed reference the next steps use."""
    key = f"alumni-import/{new_key()}"
    get_storage().put(io.BytesIO(data), key, content_type="application/octet-stream")
    return _signer().dumps({"k": key, "n": filename, "e": encoding, "u": user_id})


def _staged() -> tuple[dict[str, Any], bytes]:
    """The staged file of this request's reference; 404 when it is not this user's."""
    try:
        meta = _signer().loads(request.values.get("file", ""), max_age=STAGE_SECONDS)
    except BadSignature:
        abort(404)
    if meta.get("u") != current_account().id:
        abort(404)
    try:
        data = b"".join(get_storage().open(meta["k"]))
    except NotFound:
        abort(410)
    return meta, data


def _mapping_from(form: FlaskForm, headers: list[str]) -> list[str]:
    return [form[f"col_{i}"].data or "" for i in range(len(headers))]


@bp.route("/admin/alumni/import", methods=["GET", "POST"])
@staff_required
@body_limit(lambda: max_bytes() + FORM_OVERHEAD)
def import_upload() -> ResponseReturnValue:
    form = UploadForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            with spool_limited(upload.stream, max_bytes()) as spooled:
                data = spooled.read()
            read_table(data, form.encoding.data)  # refuse a bad file at once
        except FileTooLarge as exc:
            form.file.errors.append(str(exc.message))
            status = 413
        except ImportRefused as exc:
            form.file.errors.append(str(exc.message))
            status = 422
        else:
            token = stage_file(data, clean_filename(upload.filename), form.encoding.data,
                               current_account().id)
            return see_other("alumni.import_map", file=token)
    elif form.errors:
        status = 422
    return render_template("alumni/import_upload.html", form=form, max_mb=max_bytes() // 2**20,
                           targets=TARGETS), status


def _table_or_refuse(meta: dict[str, Any], data: bytes) -> Table | None:
    try:
        return read_table(data, meta.get("e", "auto"))
    except ImportRefused as exc:
        flash(str(exc.message), "error")
        return None


@bp.route("/admin/alumni/import/columns", methods=["GET", "POST"])
@staff_required
def import_map() -> ResponseReturnValue:
    meta, data = _staged()
    table = _table_or_refuse(meta, data)
    if table is None:
        return see_other("alumni.import_upload")
    form = mapping_form(table.headers, guess_mapping(table.headers))
    problems: list[Any] = []
    if form.validate_on_submit():
        mapping = _mapping_from(form, table.headers)
        problems = mapping_problems(mapping)
        if not problems:
            rows, errors = parse_rows(table, mapping, date.today())
            report = run_import(rows, errors, actor=current_account(), filename=meta["n"])
            discard()  # a dry run: show what the import would do, keep nothing
            return render_template(
                "alumni/import_preview.html", report=report, meta=meta,
                token=request.values["file"], mapping=json.dumps(mapping),
                columns=[(table.headers[i], TARGETS[t]) for i, t in enumerate(mapping) if t],
                targets=TARGETS, form=ConfirmForm())
    return render_template(
        "alumni/import_map.html", form=form, table=table, meta=meta, problems=problems,
        token=request.values["file"], sample=table.rows[:5],
    ), 422 if problems or form.errors else 200


@bp.post("/admin/alumni/import/run")
@staff_required
def import_run() -> ResponseReturnValue:
    meta, data = _staged()
    table = _table_or_refuse(meta, data)
    try:
        mapping = [str(t) for t in json.loads(request.form.get("mapping", "[]"))]
    except (ValueError, TypeError):
        mapping = []
    if table is None or len(mapping) != len(table.headers) or mapping_problems(mapping) or \
            any(t and t not in TARGETS for t in mapping):
        if table is not None:
            flash(_("Choose the columns again."), "error")
            return see_other("alumni.import_map", file=request.form["file"])
        return see_other("alumni.import_upload")
    rows, errors = parse_rows(table, mapping, date.today())
    report = run_import(rows, errors, actor=current_account(), filename=meta["n"])
    # The staged file goes now; should the commit fail, the import is started again from
    # a new upload (and the storage sweep would have removed the file anyway).
    get_storage().delete(meta["k"])
    flash(_("Import of %(file)s finished: %(created)d created, %(updated)d updated, "
            "%(unchanged)d unchanged, %(skipped)d skipped.", file=meta["n"],
            **report.summary()), "success")
    return see_other("alumni.staff_index")
