"""On S3: a reviewer's download is a presigned link to the reviewers' copy, under the
reviewer name; the link itself carries no hidden fact either."""

from __future__ import annotations

import http.client
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.nominations.models import NominationDocument
from portal.storage.models import Blob
from tests.conftest import login
from tests.factories import Factory
from tests.nominations.factories import requirement, store_blob
from tests.review.documents_factories import pdf_naming, raw_strings
from tests.review.factories import BLIND_ALL, make_review_cycle

NAME = "Teodora Wexhallam"


@pytest.fixture
def s3_app(s3_endpoint, make_app):  # noqa: ANN001, ANN201
    app = make_app(
        STORAGE="s3", S3_ENDPOINT_URL=s3_endpoint, S3_PUBLIC_ENDPOINT_URL=s3_endpoint,
        S3_BUCKET="review-s3-test", S3_CREATE_BUCKET=True, S3_REGION="us-east-1",
        S3_ACCESS_KEY_ID="testing", S3_SECRET_ACCESS_KEY="testing",
    )
    with app.app_context():
        yield app


def test_a_reviewer_download_on_s3_is_the_copy_under_the_reviewer_name(s3_app) -> None:  # noqa: ANN001
    rc = make_review_cycle(Factory(), blind=BLIND_ALL, documents=True)
    document = db.session.scalars(select(NominationDocument).where(
        NominationDocument.nomination_id == rc.nominations[0].id,
        NominationDocument.requirement_id == requirement(rc.cycle, "cv_anonymised").id)).one()
    old = db.session.get(Blob, document.blob_id)
    document.blob_id = store_blob(pdf_naming(NAME), "application/pdf", f"{NAME}.pdf").id
    db.session.delete(old)
    db.session.commit()
    client = s3_app.test_client()
    login(client, rc.reviewers[0])

    response = client.get(f"/review/{document.nomination_id}/documents/{document.id}")

    assert response.status_code == 303
    location = response.headers["Location"]
    assert "Wexhallam" not in unquote(location)
    link = urlsplit(location)
    conn = http.client.HTTPConnection(link.hostname, link.port, timeout=10)
    conn.request("GET", f"{link.path}?{link.query}")
    fetched = conn.getresponse()
    body = fetched.read()
    conn.close()
    assert fetched.status == 200, body[:300]
    assert "CV%20without%20name" in fetched.headers["Content-Disposition"]
    assert body.startswith(b"%PDF") and NAME.encode() not in raw_strings(body)
