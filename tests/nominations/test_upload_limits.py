"""Limits on document uploads (issue 12): a body is limited to what its endpoint needs and
refused with 413 from its Content-Length before anything reads it (point 5); one
resumable upload per nomination and requirement, and a cap per person (point 6)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.models import ChunkedDocumentUpload, Nomination, NominationDocument
from portal.nominations.uploads import PART_SIZE
from portal.storage import Blob, PendingUpload, get_storage
from tests.factories import TEST_PASSWORD
from tests.nominations.factories import big_pdf, make_nomination, requirement

HTMX = {"HX-Request": "true"}
MB = 1024 * 1024


class Unreadable(io.RawIOBase):
    """A request body of `length` bytes that must not be read: a read is recorded and
    fails the request. (The test client seeks to its end to learn the length.)"""

    def __init__(self, length: int) -> None:
        self.reads = 0
        self.length = length
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = self.length + offset if whence == 2 else offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: object) -> int:
        self.reads += 1
        raise AssertionError("the body was read")


@pytest.fixture
def draft(nominator, cycle) -> Nomination:  # noqa: ANN001
    institution = db.session.get(Institution, nominator.institution_id)
    return make_nomination(cycle, institution, complete=False, confirmed=False)


@pytest.fixture
def guarded(make_app: Callable[..., Flask], nominator) -> tuple[FlaskClient, str]:  # noqa: ANN001
    """A client of a portal with CSRF protection on (as in production, where the check
    parses a form body before the view runs), signed in as the nominator, and the CSRF
    token its pages carry."""
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    assert client.post("/login", data={"email": nominator.email, "password": TEST_PASSWORD,
                                       "csrf_token": token}).status_code == 303
    page = client.get("/nominations").get_data(as_text=True)
    return client, re.search(r'"X-CSRFToken": ?"([^"]+)"', page)[1]


def _huge_post(client: FlaskClient, url: str, token: str, length: int,
               headers: dict[str, str] | None = None) -> tuple[object, Unreadable]:
    body = Unreadable(length)
    response = client.post(url, input_stream=body,
                           content_type="multipart/form-data; boundary=xyz",
                           headers={"X-CSRFToken": token, **(headers or {})})
    return response, body


# -- point 5: per-endpoint limits, refused from Content-Length ---------------------------

def test_oversize_upload_is_refused_with_413_before_its_body_is_read(guarded, draft, cycle):
    client, token = guarded
    photo = requirement(cycle, "photo")  # 1 MB
    url = f"/nominations/{draft.id}/documents/{photo.id}"
    response, body = _huge_post(client, url, token, 300 * MB, HTMX)
    assert body.reads == 0
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "larger than the limit of 1 MB" in text and 'class="doc-row' in text  # the row
    # Without JavaScript: the message on the page, back at the row.
    response, body = _huge_post(client, url, token, 300 * MB)
    assert body.reads == 0
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#req-{photo.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "larger than the limit of 1 MB" in page
    assert db.session.scalar(select(func.count(Blob.id))) == 0


def test_an_upload_within_its_limit_passes_a_small_default_limit(
        app, client, draft, cycle, monkeypatch):
    # The portal's default for every request is small (issue 12, point 5); an upload
    # gets its requirement's limit plus the form instead.
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    cv = requirement(cycle, "cv")
    data = big_pdf(400 * 1024)
    response = client.post(f"/nominations/{draft.id}/documents/{cv.id}", headers=HTMX,
                           data={"file": (io.BytesIO(data), "cv.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert db.session.scalar(select(func.count(NominationDocument.id))) == 1


def test_oversize_part_is_refused_with_413_before_it_is_read(guarded, draft, cycle):
    client, token = guarded
    cv = requirement(cycle, "cv")
    cv.max_size_mb = 30
    db.session.commit()
    size = 2 * PART_SIZE + 10
    started = client.post(f"/nominations/{draft.id}/documents/{cv.id}/uploads",
                          headers={"X-CSRFToken": token},
                          data={"filename": "scan.pdf", "size": str(size)})
    assert started.status_code == 201
    state = started.get_json()
    body = Unreadable(11)
    response = client.put(state["part_url"] + "3", input_stream=body,
                          content_type="application/octet-stream",
                          headers={"X-CSRFToken": token})
    assert body.reads == 0
    assert response.status_code == 413
    assert response.get_json()["error"] == "This part is larger than announced."
    # A whole part of the default size passes, whatever the portal's default limit.
    data = big_pdf(size)[:PART_SIZE]
    assert client.put(state["part_url"] + "1", data=data,
                      content_type="application/octet-stream",
                      headers={"X-CSRFToken": token}).status_code == 200


# -- point 6: one active resumable upload per document, a cap per person ---------------------

def _start(client: FlaskClient, nomination: Nomination, requirement_id: int,
           fingerprint: str, size: int = PART_SIZE + 10) -> object:
    return client.post(f"/nominations/{nomination.id}/documents/{requirement_id}/uploads",
                       data={"filename": "scan.pdf", "size": str(size),
                             "fingerprint": fingerprint})


def test_a_new_start_replaces_the_unfinished_upload_of_the_same_document(
        client, draft, cycle):
    cv = requirement(cycle, "cv")
    cv.max_size_mb = 30
    db.session.commit()
    first = _start(client, draft, cv.id, "a.pdf:1").get_json()
    for n in range(20):
        latest = _start(client, draft, cv.id, f"other-{n}.pdf:1")
        assert latest.status_code == 201
    latest = latest.get_json()
    assert db.session.scalar(select(func.count(ChunkedDocumentUpload.id))) == 1
    assert db.session.scalar(select(func.count(PendingUpload.id))) == 1
    assert len(list(get_storage().iter_multipart_uploads())) == 1  # the others aborted
    # The replaced upload is gone, with a message the page shows.
    gone = client.put(first["part_url"] + "1", data=b"x" * PART_SIZE,
                      content_type="application/octet-stream")
    assert gone.status_code == 404
    assert "replaced by another file for the same document" in gone.get_json()["error"]
    # Choosing the same file again finds the active upload (resumes it).
    again = _start(client, draft, cv.id, "other-19.pdf:1").get_json()
    assert again["id"] == latest["id"]
    # Another document of the same nomination has its own.
    assert _start(client, draft, requirement(cycle, "application").id, "p.pdf:1",
                  size=10).status_code == 201
    assert db.session.scalar(select(func.count(ChunkedDocumentUpload.id))) == 2


def test_unfinished_uploads_per_person_are_capped(app, client, nominator, cycle, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOADS_UNFINISHED_MAX", 3)
    institution = db.session.get(Institution, nominator.institution_id)
    drafts = [make_nomination(cycle, institution, complete=False, confirmed=False)
              for _ in range(2)]
    cv, form = requirement(cycle, "cv"), requirement(cycle, "application")
    started = [_start(client, drafts[0], cv.id, "a:1"), _start(client, drafts[0], form.id, "b:1"),
               _start(client, drafts[1], cv.id, "c:1")]
    assert [r.status_code for r in started] == [201, 201, 201]
    refused = _start(client, drafts[1], form.id, "d:1")
    assert refused.status_code == 422
    assert "3 unfinished uploads, the most allowed" in refused.get_json()["error"]
    # Replacing one of them is no new upload; one aborted leaves room for another.
    assert _start(client, drafts[0], cv.id, "a2:1").status_code == 201
    state = started[1].get_json()
    assert client.post(state["status_url"].replace(
        f"/uploads/{state['id']}", f"/uploads/{state['id']}/abort")).status_code == 204
    assert _start(client, drafts[1], form.id, "d:1").status_code == 201
    assert db.session.scalar(select(func.count(PendingUpload.id))) == 3
