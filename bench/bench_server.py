"""WSGI app of the benchmarks: the portal as configured by PORTAL_* variables.

If the workspace's upload endpoint (nominations.upload) is missing, a minimal stand-in
route stores the file with portal.storage.store_upload (same checks, same storage) so
the upload benchmark still measures the portal's upload path; the script says which.
"""

from __future__ import annotations

from flask import request

from portal import create_app
from portal.extensions import csrf, db

app = create_app()

if "nominations.upload" not in app.view_functions:
    from portal.storage import FileRejected, store_upload

    @csrf.exempt
    def bench_upload():  # noqa: ANN201
        file = request.files["file"]
        try:
            store_upload(file.stream, original_name=file.filename, allowed={"pdf"},
                         max_bytes=25 * 1024 * 1024, user_id=None)
        except FileRejected as e:
            db.session.rollback()
            return str(e.message), 422
        db.session.commit()
        return "stored", 201

    app.add_url_rule("/bench/upload", "bench_upload", bench_upload, methods=["POST"])
