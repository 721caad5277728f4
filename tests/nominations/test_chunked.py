"""Big files go up in parts; an upload cut off half-way resumes from its last complete
part, through another server process (a second app on the same database and storage)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.models import ChunkedDocumentUpload, NominationDocument
from portal.nominations.uploads import PART_SIZE
from portal.storage import Blob, PendingUpload
from tests.conftest import login, make_test_app
from tests.nominations.factories import big_pdf, js_pdf, make_nomination, stored_keys


@pytest.fixture
def draft(nominator, cycle):  # noqa: ANN001, ANN201
    for r in cycle.requirements:
        r.max_size_mb = 30
    db.session.commit()
    institution = db.session.get(Institution, nominator.institution_id)
    return make_nomination(cycle, institution, complete=False, confirmed=False)


def _start(client, draft, requirement, data, name="scan.pdf"):  # noqa: ANN001, ANN202
    return client.post(
        f"/nominations/{draft.id}/documents/{requirement.id}/uploads",
        data={"filename": name, "size": str(len(data)),
              "fingerprint": f"{name}:{len(data)}:1700000000"})


def _part(client, state, number, data):  # noqa: ANN001, ANN202
    chunk = data[(number - 1) * PART_SIZE:number * PART_SIZE]
    return client.put(state["part_url"] + str(number), data=chunk,
                      content_type="application/octet-stream")


def test_interrupted_upload_resumes_through_another_server(app, client, nominator, draft,
                                                           cycle, tmp_path):
    cv = cycle.requirements[0]
    data = big_pdf(2 * PART_SIZE + 300_000)  # three parts
    started = _start(client, draft, cv, data)
    assert started.status_code == 201
    state = started.get_json()
    assert (state["part_count"], state["parts"]) == (3, [])
    assert _part(client, state, 1, data).status_code == 200
    # The connection drops in the middle of part 2: half of it arrives.
    half = data[PART_SIZE:PART_SIZE + PART_SIZE // 2]
    cut = client.put(state["part_url"] + "2", data=half,
                     content_type="application/octet-stream")
    assert cut.status_code == 400
    assert "incomplete" in cut.get_json()["error"]

    # Another server process (own app, own engine) takes over; the browser asks where
    # to go on, or finds its upload again by choosing the same file. (Plain values only
    # from here: the test's own session must not start a transaction, which on SQLite
    # would hold the write lock the other process needs.)
    person = SimpleNamespace(email=nominator.email)
    draft_id, cv_id = draft.id, cv.id
    draft, cv = SimpleNamespace(id=draft_id), SimpleNamespace(id=cv_id)
    db.session.commit()
    root = Path(app.config["STORAGE_LOCAL_ROOT"]).parent
    other = make_test_app(app.config["DATABASE_URL"], root)
    try:
        with other.app_context():
            second = other.test_client()
            login(second, person)
            status = second.get(state["status_url"]).get_json()
            assert status["parts"] == [1] and status["next_part"] == 2
            again = _start(second, draft, cv, data).get_json()
            assert again["id"] == state["id"] and again["parts"] == [1]
            assert _part(second, again, 2, data).status_code == 200
            assert _part(second, again, 3, data).status_code == 200
            done = second.post(again["complete_url"], headers={"HX-Request": "true"})
            assert done.status_code == 200, done.get_data(as_text=True)[:300]
            assert "Uploaded" in done.get_data(as_text=True)
            download = second.get(f"/nominations/{draft.id}/documents/{cv.id}/file")
            assert hashlib.sha256(download.data).digest() == hashlib.sha256(data).digest()
    finally:
        with other.app_context():
            from portal.extensions import db as other_db

            other_db.session.remove()
            other_db.engine.dispose()
    db.session.expire_all()
    blob = db.session.scalars(select(Blob)).one()
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert blob.size == len(data)
    assert db.session.scalar(select(func.count(PendingUpload.id))) == 0
    assert db.session.scalar(select(func.count(ChunkedDocumentUpload.id))) == 0
    assert db.session.scalars(select(NominationDocument)).one().blob_id == blob.id


def test_big_booby_trapped_file_is_refused_and_leaves_nothing(client, draft, cycle):
    cv = cycle.requirements[0]
    trap = js_pdf()
    data = trap + b"%" + b"x" * (PART_SIZE + 1000)  # padding after %%EOF: still the trap
    before = set(stored_keys())
    state = _start(client, draft, cv, data).get_json()
    assert _part(client, state, 1, data).status_code == 200
    assert _part(client, state, 2, data).status_code == 200
    done = client.post(state["complete_url"], headers={"HX-Request": "true"})
    assert done.status_code == 422
    assert "scripts, automatic actions" in done.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Blob.id))) == 0
    assert db.session.scalar(select(func.count(PendingUpload.id))) == 0
    assert set(stored_keys()) == before


def test_announced_size_over_the_limit_is_refused_before_any_part(client, draft, cycle):
    photo = next(r for r in cycle.requirements if r.code == "photo")
    photo.max_size_mb = 1
    db.session.commit()
    response = client.post(f"/nominations/{draft.id}/documents/{photo.id}/uploads",
                           data={"filename": "huge.jpg", "size": str(8 * 1024 * 1024)})
    assert response.status_code == 413
    assert "larger than the limit of 1 MB" in response.get_json()["error"]
    assert db.session.scalar(select(func.count(PendingUpload.id))) == 0


def test_abandoned_upload_is_aborted_by_the_sweep(client, draft, cycle):
    from datetime import timedelta

    from portal.db import utcnow
    from portal.storage import get_storage
    from portal.storage.maintenance import sweep

    data = big_pdf(PART_SIZE + 10)
    state = _start(client, draft, cycle.requirements[0], data).get_json()
    assert _part(client, state, 1, data).status_code == 200
    upload_id = db.session.scalars(select(PendingUpload.upload_id)).one()
    assert upload_id in {u for _k, u, _t in get_storage().iter_multipart_uploads()}
    report = sweep(timedelta(hours=24), now=utcnow() + timedelta(days=3))
    assert upload_id in {u for _k, u in report.aborted_uploads}
    assert db.session.scalar(select(func.count(PendingUpload.id))) == 0
    assert db.session.scalar(select(func.count(ChunkedDocumentUpload.id))) == 0
    assert client.get(state["status_url"]).status_code == 404


def test_the_size_that_goes_up_in_parts_is_a_setting(app, client, draft, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_CHUNK_MB", 2)
    page = client.get(f"/nominations/{draft.id}").get_data(as_text=True)
    assert f'data-chunk-threshold="{2 * 1024 * 1024}"' in page
