"""On the S3 backend: downloads are presigned links on the public endpoint (≤ 60 s),
logged when issued; previews and zips still stream through the portal."""

from __future__ import annotations

import http.client
import io
import zipfile
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.nominations.models import NominationDocument, NominationState
from tests.conftest import login
from tests.factories import Factory
from tests.nominations.factories import make_cycle, make_nomination, pdf_bytes

PUBLIC = "http://public.example:9000"


@pytest.fixture
def s3_app(request, s3_endpoint, make_app):  # noqa: ANN001, ANN201
    """The portal on S3 (both databases); the public endpoint is PUBLIC unless the test
    says otherwise."""
    public = getattr(request, "param", PUBLIC) or s3_endpoint
    app = make_app(
        STORAGE="s3", S3_ENDPOINT_URL=s3_endpoint, S3_PUBLIC_ENDPOINT_URL=public,
        S3_BUCKET="intake-s3-test", S3_CREATE_BUCKET=True, S3_REGION="us-east-1",
        S3_ACCESS_KEY_ID="testing", S3_SECRET_ACCESS_KEY="testing",
    )
    with app.app_context():
        yield app


def _signed_in_with_a_document(app):  # noqa: ANN001, ANN202
    people = Factory()
    staff = people.staff()
    nomination = make_nomination(make_cycle(), people.institution(country="MY"),
                                 state=NominationState.SUBMITTED, given_names="Amina",
                                 family_name="Tan", documents=("passport",))
    document = db.session.scalar(select(NominationDocument).where(
        NominationDocument.nomination_id == nomination.id))
    client = app.test_client()
    login(client, staff)
    return client, staff, nomination, document


def test_download_redirects_to_a_short_presigned_url_on_the_public_host(s3_app) -> None:  # noqa: ANN001
    client, staff, nomination, document = _signed_in_with_a_document(s3_app)

    response = client.get(f"/staff/nominations/documents/{document.id}/download")

    assert response.status_code == 303  # the same status for every presigned link
    link = urlsplit(response.headers["Location"])
    assert f"{link.scheme}://{link.netloc}" == PUBLIC
    query = parse_qs(link.query)
    assert int(query["X-Amz-Expires"][0]) <= 60
    assert "attachment" in query["response-content-disposition"][0]
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.downloaded")).all()
    assert event.details["how"] == "presigned_url" and event.actor_id == staff.id
    # Previews never leave the portal (the sandbox policy must travel with them).
    preview = client.get(f"/staff/nominations/documents/{document.id}/preview")
    assert preview.status_code == 200 and preview.data == pdf_bytes()
    assert "sandbox" in preview.headers["Content-Security-Policy"]

    archive = zipfile.ZipFile(io.BytesIO(
        client.get(f"/staff/nominations/{nomination.id}/dossier.zip").data))
    [name] = archive.namelist()
    assert name.startswith("Malaysia_") and name.endswith("_Tan-Amina_passport.pdf")
    assert archive.read(name) == pdf_bytes()


@pytest.mark.parametrize("s3_app", [None], indirect=True)  # public endpoint = the server
def test_presigned_link_from_the_portal_fetches_the_file(s3_app, s3_endpoint) -> None:  # noqa: ANN001
    """The Location the portal sends is accepted by the S3 server byte for byte (moto
    checks the signature, which covers the host: hence the same endpoint here)."""
    client, _staff, _nomination, document = _signed_in_with_a_document(s3_app)

    location = client.get(f"/staff/nominations/documents/{document.id}/download"
                          ).headers["Location"]

    link = urlsplit(location)
    assert f"{link.scheme}://{link.netloc}" == s3_endpoint
    conn = http.client.HTTPConnection(link.hostname, link.port, timeout=10)
    conn.request("GET", f"{link.path}?{link.query}")
    fetched = conn.getresponse()
    body = fetched.read()
    conn.close()
    assert fetched.status == 200, body[:300]
    assert body == pdf_bytes()
    assert "_Tan-Amina_passport.pdf" in fetched.headers["Content-Disposition"]
