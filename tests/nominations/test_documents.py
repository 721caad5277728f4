"""Document checklist: uploads checked by content, refusals that store nothing, validity
dates, replace and remove, downloads logged, and the sweep after a failed commit."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta

import pytest
from flask import has_request_context, request
from PIL import Image
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.models import DocumentState, Nomination, NominationDocument
from portal.storage import Blob
from portal.storage.maintenance import sweep
from tests.nominations.factories import (
    jpeg_bytes,
    js_pdf,
    make_nomination,
    pdf_bytes,
    stored_keys,
)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def draft(nominator, cycle):  # noqa: ANN001, ANN201
    institution = db.session.get(Institution, nominator.institution_id)
    return make_nomination(cycle, institution, complete=False, confirmed=False)


def req(cycle, code):  # noqa: ANN001, ANN201
    return next(r for r in cycle.requirements if r.code == code)


def upload(client, nomination, requirement, data, name, **form):  # noqa: ANN001, ANN003, ANN201
    return client.post(f"/nominations/{nomination.id}/documents/{requirement.id}",
                       headers=HTMX, data={"file": (io.BytesIO(data), name), **form},
                       content_type="multipart/form-data")


def test_pdf_upload_is_stored_with_its_hash_and_shown(client, draft, cycle):
    data = pdf_bytes(2)
    response = upload(client, draft, req(cycle, "cv"), data, "My CV.pdf")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Uploaded" in html and "My CV.pdf" in html
    assert response.headers["HX-Trigger"] == "nomination-changed"  # the panel reloads
    blob = db.session.scalars(select(Blob)).one()
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert blob.size == len(data)
    doc = db.session.scalars(select(NominationDocument)).one()
    assert (doc.nomination_id, doc.blob_id) == (draft.id, blob.id)
    download = client.get(f"/nominations/{draft.id}/documents/{req(cycle, 'cv').id}/file")
    assert download.status_code == 200
    assert download.data == data
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "document.downloaded")) == 1


def test_photo_is_reencoded_without_its_metadata(client, draft, cycle):
    image = Image.new("RGB", (80, 60), (200, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # camera maker
    raw = io.BytesIO()
    image.save(raw, "JPEG", exif=exif)
    response = upload(client, draft, req(cycle, "photo"), raw.getvalue(), "me.jpg")
    assert response.status_code == 200
    blob = db.session.scalars(select(Blob)).one()
    from portal.storage import get_storage

    stored = b"".join(get_storage().open(blob.key))
    assert b"SpyCam" not in stored
    assert stored.startswith(b"\xff\xd8\xff")


def _garbage_pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\nthis is not a pdf at all\n%%EOF"


@pytest.mark.parametrize(("code", "maker", "name", "message", "status"), [
    ("cv", jpeg_bytes, "cv.pdf", "not accepted here", 422),  # wrong type, whatever its name
    ("cv", lambda: b"MZ\x90\x00" + b"\x00" * 200, "cv.pdf", "not accepted", 422),
    ("photo", lambda: b"\xff\xd8\xff" + b"\x00" * (1024 * 1024 + 10), "big.jpg",
     "larger than the limit of 1 MB", 413),  # too large: 413, as the resumable path says
    ("cv", _garbage_pdf, "cv.pdf", "could not be read", 422),
    ("cv", js_pdf, "cv.pdf", "scripts, automatic actions or embedded files", 422),
])
def test_refused_files_leave_nothing_stored(client, draft, cycle, code, maker, name, message,
                                            status):
    before = set(stored_keys())
    response = upload(client, draft, req(cycle, code), maker(), name)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Blob.id))) == 0
    assert db.session.scalar(select(func.count(NominationDocument.id))) == 0
    assert set(stored_keys()) == before


def test_refusal_without_javascript_is_a_message_on_the_page(client, draft, cycle):
    response = client.post(f"/nominations/{draft.id}/documents/{req(cycle, 'cv').id}",
                           data={"file": (io.BytesIO(js_pdf()), "cv.pdf")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    assert "scripts, automatic actions" in response.get_data(as_text=True)


def test_validity_dates_are_asked_and_checked_against_the_cycle(client, draft, cycle):
    passport, health = req(cycle, "passport"), req(cycle, "health")
    missing = upload(client, draft, passport, pdf_bytes(), "passport.pdf")
    assert missing.status_code == 422
    assert "expiry date" in missing.get_data(as_text=True)
    too_early = cycle.training_ends_on + timedelta(days=30)  # rule: 6 months after training
    response = upload(client, draft, passport, pdf_bytes(), "passport.pdf",
                      expires_on=too_early.isoformat())
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Not valid" in html and "6 months after the training ends" in html
    old = (cycle.closes_at.date() - timedelta(days=120)).isoformat()
    html = upload(client, draft, health, pdf_bytes(), "health.pdf",
                  issued_on=old).get_data(as_text=True)
    assert "Not valid" in html and "at most 90 days before the deadline" in html
    good = upload(client, draft, passport, pdf_bytes(), "passport.pdf",
                  expires_on=(cycle.training_ends_on + timedelta(days=500)).isoformat())
    assert "status-ok" in good.get_data(as_text=True)
    page = client.get(f"/nominations/{draft.id}").get_data(as_text=True)
    assert "Health certificate" in page and "Some documents are missing or not valid" in page


def test_replace_and_remove_while_draft(client, draft, cycle):
    cv = req(cycle, "cv")
    upload(client, draft, cv, pdf_bytes(1), "first.pdf")
    first_key = db.session.scalars(select(Blob)).one().key
    upload(client, draft, cv, pdf_bytes(3), "second.pdf")
    db.session.expire_all()
    blobs = db.session.scalars(select(Blob)).all()
    assert [b.original_name for b in blobs] == ["second.pdf"]
    assert first_key not in stored_keys()  # the replaced file is deleted after the commit
    response = client.post(f"/nominations/{draft.id}/documents/{cv.id}/remove", headers=HTMX)
    assert response.status_code == 200
    assert "Missing" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(NominationDocument.id))) == 0
    assert db.session.scalar(select(func.count(Blob.id))) == 0


def test_failed_commit_leaves_only_a_file_that_the_sweep_removes(app, client, draft, cycle):
    before = set(stored_keys())
    path = f"/nominations/{draft.id}/documents/{req(cycle, 'cv').id}"

    def fail(session):  # noqa: ANN001, ANN202
        if has_request_context() and request.path == path:
            raise RuntimeError("database went away at commit")

    event.listen(Session, "before_commit", fail)
    try:
        with pytest.raises(RuntimeError):
            upload(client, draft, req(cycle, "cv"), pdf_bytes(), "cv.pdf")
    finally:
        event.remove(Session, "before_commit", fail)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Blob.id))) == 0
    orphans = set(stored_keys()) - before
    assert len(orphans) == 1  # written before the commit failed
    report = sweep(timedelta(hours=1), now=utcnow() + timedelta(hours=2))
    assert orphans <= set(report.deleted_keys)
    assert not (orphans & set(stored_keys()))


def test_completeness_follows_the_documents(client, nominator, cycle):
    institution = db.session.get(Institution, nominator.institution_id)
    nomination = make_nomination(cycle, institution)
    assert nomination.is_complete
    cv = req(cycle, "cv")
    client.post(f"/nominations/{nomination.id}/documents/{cv.id}/remove", headers=HTMX)
    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).is_complete is False
    upload(client, nomination, cv, pdf_bytes(), "cv.pdf")
    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).is_complete is True
    doc = db.session.scalars(select(NominationDocument).where(
        NominationDocument.requirement_id == cv.id)).one()
    assert doc.state == DocumentState.UPLOADED
    assert date.today() <= doc.uploaded_at.date() <= date.today() + timedelta(days=1)
