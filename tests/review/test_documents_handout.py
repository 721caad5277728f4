"""Reviewers' documents: which ones, under what names, as the metadata-free copy, logged,
and only through the reviewer's visible assignment."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.cycles.models import DocumentRequirement
from portal.db import utcnow
from portal.errors import Conflict
from portal.extensions import db
from portal.nominations import uploads
from portal.nominations.models import NominationDocument, NominationState
from portal.review.documents import reviewer_copy, reviewer_documents
from portal.storage import get_storage
from portal.storage.models import Blob
from tests.conftest import count_queries
from tests.nominations.factories import add_document, pdf_bytes, requirement, store_blob
from tests.review.documents_factories import pdf_naming, pdf_text, raw_strings
from tests.review.factories import BLIND_ALL, ReviewCycle, make_review_cycle

NAME = "Ngozi Abernathy-Quist"
ANONYMISED = "CV without name, photo or institution"


@pytest.fixture
def rc(factory) -> ReviewCycle:  # noqa: ANN001
    """A blind review cycle whose nominations have their files; nomination 0 also has a
    photo, and its anonymised CV is a PDF whose metadata (and file name) names NAME."""
    rc = make_review_cycle(factory, blind=BLIND_ALL, documents=True)
    nomination = rc.nominations[0]
    add_document(nomination, "photo", name=f"{NAME}.jpg")
    cv = _document(rc, "cv_anonymised")
    old = db.session.get(Blob, cv.blob_id)
    new = store_blob(pdf_naming(NAME), "application/pdf", f"{NAME} - CV.pdf")
    cv.blob_id = new.id
    db.session.delete(old)
    db.session.commit()
    return rc


def _document(rc: ReviewCycle, code: str, nomination: int = 0) -> NominationDocument:
    req = requirement(rc.cycle, code)
    document = db.session.scalars(select(NominationDocument).where(
        NominationDocument.nomination_id == rc.nominations[nomination].id,
        NominationDocument.requirement_id == req.id)).one()
    return document


def _url(rc: ReviewCycle, code: str, nomination: int = 0, preview: bool = False) -> str:
    document = _document(rc, code, nomination)
    url = f"/review/{document.nomination_id}/documents/{document.id}"
    return url + "/preview" if preview else url


def _blobs() -> int:
    return db.session.scalar(select(func.count()).select_from(Blob)) or 0


def test_reviewers_see_the_documents_their_cycle_allows_named_by_requirement(rc) -> None:  # noqa: ANN001
    reviewer, assignment = rc.reviewers[0], rc.assignment(0, 0)
    db.session.refresh(assignment)
    assert reviewer.has_role("reviewer")  # loaded: what is counted is the listing alone

    with count_queries() as statements:
        documents = reviewer_documents(reviewer, assignment)

    # Blind: the CV with the name is out, its anonymised version in; the photo is blind;
    # the passport and the health certificate are sensitive: never.
    assert [d.name for d in documents] == ["Application form.pdf", f"{ANONYMISED}.pdf"]
    assert len([s for s in statements if s.startswith("SELECT")]) == 1, statements

    rc.setup.blind_fields = []
    db.session.commit()
    documents = reviewer_documents(reviewer, assignment)
    assert [d.name for d in documents] == ["Application form.pdf", "Curriculum vitae.pdf",
                                           "Photo.jpg"]
    # Nobody else gets any: not the conflicted reviewer assigned to the same dossier.
    assert reviewer_documents(rc.conflicted, rc.assignment(0, -1)) == []


def test_a_pdf_is_handed_out_as_the_reviewers_copy_made_once(client, login_as, rc) -> None:  # noqa: ANN001
    reviewer = rc.reviewers[0]
    login_as(reviewer)
    url = _url(rc, "cv_anonymised")
    blobs = _blobs()

    response = client.get(url)

    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "CV%20without%20name%2C%20photo%20or%20institution.pdf" in disposition
    assert "Ngozi" not in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.data
    assert NAME.encode() not in raw_strings(body)
    assert pdf_text(body) == pdf_text(pdf_naming(NAME))
    document = _document(rc, "cv_anonymised")
    assert document.reviewer_blob_id is not None
    assert _blobs() == blobs + 1
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.downloaded")).one()
    assert (event.actor_id, event.object_id) == (reviewer.id, str(document.id))
    assert event.details["file"] == f"{ANONYMISED}.pdf"

    again = client.get(url)
    preview = client.get(_url(rc, "cv_anonymised", preview=True))

    assert again.data == body and preview.data == body  # the same copy, not a new one
    assert _blobs() == blobs + 1
    assert preview.headers["Content-Disposition"].startswith("inline;")
    assert preview.headers["Content-Security-Policy"].startswith("sandbox")


def test_a_replaced_file_gets_a_new_copy_and_the_old_copy_goes(client, login_as, rc) -> None:  # noqa: ANN001
    login_as(rc.reviewers[0])
    url = _url(rc, "cv_anonymised")
    client.get(url)
    document = _document(rc, "cv_anonymised")
    old_copy = db.session.get(Blob, document.reviewer_blob_id)
    assert old_copy is not None
    old_key = old_copy.key

    new = store_blob(pdf_naming(NAME, text="Now five years of experience."),
                     "application/pdf", "CV v2.pdf")
    uploads.attach(rc.nominations[0], requirement(rc.cycle, "cv_anonymised"), new, None)
    db.session.commit()
    db.session.expire_all()

    assert _document(rc, "cv_anonymised").reviewer_blob_id is None
    assert db.session.scalar(select(Blob.id).where(Blob.key == old_key)) is None
    body = client.get(url).data
    assert "five years" in pdf_text(body)
    assert NAME.encode() not in raw_strings(body)
    new_copy = _document(rc, "cv_anonymised").reviewer_blob_id
    assert new_copy not in (None, old_copy.id)

    # A file removed (the dossier back with its institution) takes its copy along.
    rc.nominations[0].state = NominationState.RETURNED
    db.session.commit()
    uploads.remove(rc.nominations[0], requirement(rc.cycle, "cv_anonymised"), None)
    db.session.commit()
    assert db.session.get(Blob, new_copy) is None


def test_the_dossier_zip_holds_the_copies_under_unique_reviewer_names(client, login_as,  # noqa: ANN001
                                                                      rc) -> None:
    # Two requirements with one label: the zip must not lose either.
    extra = DocumentRequirement(cycle_id=rc.cycle.id, code="application_2",
                                label="Application form", accepted_types=["pdf"],
                                required=False, position=99)
    db.session.add(extra)
    db.session.flush()
    add_document(rc.nominations[0], extra, data=pdf_naming(NAME), name=f"{NAME}.pdf")
    db.session.commit()
    login_as(rc.reviewers[0])

    response = client.get(f"/review/{rc.nominations[0].id}/documents.zip")

    assert response.status_code == 200
    reference = rc.nominations[0].reference
    assert f'filename="Candidate_{reference}.zip"' in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == ["Application form.pdf", f"{ANONYMISED}.pdf",
                                  "Application form-2.pdf"]
    for member in archive.namelist():
        assert NAME.encode() not in raw_strings(archive.read(member)), member
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.downloaded")).all()
    assert sorted(e.details["file"] for e in events) == sorted(archive.namelist())
    assert {e.details["how"] for e in events} == {"zip"}


def test_nothing_opens_outside_the_reviewers_visible_assignment(client, login_as, rc) -> None:  # noqa: ANN001
    cv = _url(rc, "cv_anonymised")
    zip_url = f"/review/{rc.nominations[0].id}/documents.zip"
    refused = {
        "the passport (sensitive)": _url(rc, "passport"),
        "the CV with the name (blind cycle)": _url(rc, "cv"),
        "the photo (blind cycle)": _url(rc, "photo"),
        "a document of another dossier through this one": cv.replace(
            f"/review/{rc.nominations[0].id}/", f"/review/{rc.nominations[1].id}/"),
        "a dossier returned to its institution": _url(rc, "application", 4),
        "a withdrawn dossier": _url(rc, "application", 5),
    }
    login_as(rc.reviewers[0])
    for what, url in refused.items():
        assert client.get(url).status_code == 404, what
    assert client.get(cv).status_code == 200  # the positive side

    for who in (rc.outsider, rc.conflicted):  # in the pool; unassigned / conflicted
        login_as(who)
        for url in (cv, cv + "/preview", zip_url):
            assert client.get(url).status_code == 404, (who.name, url)

    login_as(rc.staff)  # staff read files in the intake; these are reviewers' answers
    assert client.get(cv).status_code == 403

    # Terms not accepted, or decisions published: the dossier is closed to its reviewer.
    member = rc.member(rc.reviewers[0])
    member.terms_accepted_at = None
    db.session.commit()
    login_as(rc.reviewers[0])
    assert client.get(cv).status_code == 404
    member.terms_accepted_at = utcnow()
    rc.setup.decisions_published_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(cv).status_code == 404


def test_two_first_requests_at_once_keep_one_copy(rc) -> None:  # noqa: ANN001
    reviewer, assignment = rc.reviewers[0], rc.assignment(0, 0)
    document = next(d for d in reviewer_documents(reviewer, assignment) if d.is_pdf)
    blobs = _blobs()

    first = reviewer_copy(document)
    db.session.commit()
    second = reviewer_copy(document)  # made from the same stale listing: loses the race
    db.session.commit()

    assert second == first
    assert _blobs() == blobs + 1
    db.session.refresh(_document(rc, "application"))

    # The file replaced between the listing and the copy: no copy of the old file.
    stale = next(d for d in reviewer_documents(reviewer, assignment)
                 if d.name == f"{ANONYMISED}.pdf")
    uploads.attach(rc.nominations[0], requirement(rc.cycle, "cv_anonymised"),
                   store_blob(pdf_bytes(), "application/pdf", "new.pdf"), None)
    db.session.commit()
    with pytest.raises(Conflict):
        reviewer_copy(stale)


def test_a_pdf_that_cannot_be_copied_is_not_handed_out(client, login_as, rc) -> None:  # noqa: ANN001
    document = _document(rc, "application")
    broken = store_blob(b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF\n",
                        "application/pdf", "broken.pdf")
    document.blob_id = broken.id
    db.session.commit()
    login_as(rc.reviewers[0])
    stored = len(list(get_storage().iter_keys()))

    response = client.get(_url(rc, "application"))

    assert response.status_code == 422
    assert b"could not be prepared for reviewers" in response.data
    assert b"%PDF" not in response.data
    assert len(list(get_storage().iter_keys())) == stored  # no copy left behind
