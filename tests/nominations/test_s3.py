"""On the S3 backend, chunked uploads are S3 multipart uploads: a cut-off upload goes on
through another server process, and the joined object becomes the document."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.nominations.uploads import PART_SIZE
from portal.storage import Blob, PendingUpload, get_storage
from tests.conftest import login
from tests.factories import Factory
from tests.nominations.factories import big_pdf, make_cycle, make_nomination

S3 = {"STORAGE": "s3", "S3_BUCKET": "nominations-s3-test", "S3_CREATE_BUCKET": True,
      "S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "testing",
      "S3_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture
def s3_apps(s3_endpoint, make_app):  # noqa: ANN001, ANN201
    """Two server processes on S3 and on the test's database (both backends)."""
    return (make_app(S3_ENDPOINT_URL=s3_endpoint, **S3),
            make_app(S3_ENDPOINT_URL=s3_endpoint, **S3))


def test_chunked_upload_resumes_on_s3_through_another_process(s3_apps):
    first, second = s3_apps
    data = big_pdf(PART_SIZE + 400_000)
    with first.app_context():
        people = Factory()
        institution = people.institution()
        user = people.nominator(institution)
        cycle = make_cycle()
        nomination = make_nomination(cycle, institution, complete=False, confirmed=False)
        ids = SimpleNamespace(nomination=nomination.id, requirement=cycle.requirements[0].id)
        person = SimpleNamespace(email=user.email)
        db.session.commit()
        client = first.test_client()
        login(client, person)
        state = client.post(
            f"/nominations/{ids.nomination}/documents/{ids.requirement}/uploads",
            data={"filename": "scan.pdf", "size": str(len(data)), "fingerprint": "f"}
        ).get_json()
        assert client.put(state["part_url"] + "1", data=data[:PART_SIZE],
                          content_type="application/octet-stream").status_code == 200
        upload_id = db.session.scalars(select(PendingUpload.upload_id)).one()
        assert upload_id in {u for _k, u, _t in get_storage().iter_multipart_uploads()}
    with second.app_context():
        other = second.test_client()
        login(other, person)
        status = other.get(state["status_url"]).get_json()
        assert status["parts"] == [1]
        assert other.put(state["part_url"] + "2", data=data[PART_SIZE:],
                         content_type="application/octet-stream").status_code == 200
        done = other.post(state["complete_url"], headers={"HX-Request": "true"})
        assert done.status_code == 200
        blob = db.session.scalars(select(Blob)).one()
        assert blob.sha256 == hashlib.sha256(data).hexdigest()
        stored = b"".join(get_storage().open(blob.key))
        assert hashlib.sha256(stored).hexdigest() == blob.sha256
        assert db.session.scalar(select(func.count(PendingUpload.id))) == 0
        assert upload_id not in {u for _k, u, _t in get_storage().iter_multipart_uploads()}
