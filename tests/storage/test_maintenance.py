"""store_upload, verify, sweep and their commands, with a database, on both backends."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.db import utcnow
from portal.extensions import db
from portal.storage import (
    FileRejected,
    FileTooLarge,
    LocalStorage,
    S3Storage,
    build_storage,
    get_storage,
    store_upload,
)
from portal.storage.cli import storage_cli
from portal.storage.maintenance import sweep, verify
from portal.storage.models import Blob, PendingUpload

DAY = timedelta(days=1)


def put(storage, key: str, data: bytes = b"data") -> None:
    storage.put(io.BytesIO(data), key, content_type="application/pdf")


def add_blob(storage, key: str, data: bytes = b"data", purged: bool = False) -> Blob:
    put(storage, key, data)
    row = Blob(
        key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        content_type="application/pdf", original_name=f"{key}.pdf",
        purged_at=utcnow() if purged else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def add_pending(key: str, upload_id: str, updated_at: datetime | None = None) -> PendingUpload:
    row = PendingUpload(
        key=key, upload_id=upload_id, content_type="application/pdf",
        original_name="scan.pdf", total_size=20_000_000, part_size=5 * 1024 * 1024,
    )
    if updated_at is not None:
        row.updated_at = updated_at
    db.session.add(row)
    db.session.commit()
    return row


def keys(storage) -> set[str]:
    return {k for k, _ in storage.iter_keys()}


def make_old(storage, key: str) -> None:
    two_days_ago = (datetime.now(UTC) - 2 * DAY).timestamp()
    os.utime(storage._path(key), (two_days_ago, two_days_ago))


# -- store_upload ----------------------------------------------------------------------


def test_store_upload_checks_stores_and_records(app_ctx, storage, samples):
    blob = store_upload(
        io.BytesIO(samples.jpeg_with_gps()),
        original_name="C:\\fakepath\\holiday\u202egpj.exe",
        allowed={"jpeg", "png"}, max_bytes=1_000_000, user_id=None,
    )
    db.session.commit()
    stored = b"".join(storage.open(blob.key))
    assert b"SpyCam" not in stored  # the re-encoded image was stored, not the upload
    assert (blob.size, blob.sha256) == (len(stored), hashlib.sha256(stored).hexdigest())
    assert blob.content_type == "image/jpeg" and blob.created_at.tzinfo is not None
    assert blob.original_name == "holidaygpj.exe"  # no folder, no direction override
    assert blob.download_name == "holidaygpj.jpg"
    assert keys(storage) == {blob.key}


def test_refused_upload_stores_nothing(app_ctx, storage, samples):
    with pytest.raises(FileRejected):
        store_upload(io.BytesIO(samples.html()), original_name="x.pdf", allowed={"pdf"},
                     max_bytes=1_000_000, user_id=None)
    with pytest.raises(FileTooLarge):
        store_upload(io.BytesIO(samples.pdf()), original_name="x.pdf", allowed={"pdf"},
                     max_bytes=100, user_id=None)
    assert keys(storage) == set()
    assert db.session.scalar(select(func.count()).select_from(Blob)) == 0


def as_upload(data: bytes):  # noqa: ANN201
    """The file as a form upload arrives: a temporary file on disk."""
    f = tempfile.TemporaryFile()  # noqa: SIM115
    f.write(data)
    f.seek(0)
    return f


def test_big_scan_is_stored_while_it_is_checked(app_ctx, storage, samples):
    data = samples.scanned_pdf()
    assert len(data) > 2 * 1024 * 1024  # big enough for the overlapping path
    with as_upload(data) as upload:
        blob = store_upload(upload, original_name="scan.pdf", allowed={"pdf"},
                            max_bytes=10 * 1024 * 1024, user_id=None)
    db.session.commit()
    assert (blob.size, blob.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert b"".join(storage.open(blob.key)) == data
    assert blob.content_type == "application/pdf" and keys(storage) == {blob.key}


def test_big_booby_trapped_scan_is_refused_and_leaves_nothing(app_ctx, storage, samples):
    data = samples.scanned_pdf_js()
    assert len(data) > 2 * 1024 * 1024
    with as_upload(data) as upload, pytest.raises(FileRejected) as refused:
        store_upload(upload, original_name="scan.pdf", allowed={"pdf"},
                     max_bytes=10 * 1024 * 1024, user_id=None)
    assert "scripts" in str(refused.value)
    assert keys(storage) == set()
    assert db.session.scalar(select(func.count()).select_from(Blob)) == 0


def test_big_upload_over_the_limit_is_refused_before_anything_is_stored(app_ctx, storage, samples):
    with as_upload(samples.scanned_pdf()) as upload, pytest.raises(FileTooLarge):
        store_upload(upload, original_name="scan.pdf", allowed={"pdf"},
                     max_bytes=1024 * 1024, user_id=None)
    assert keys(storage) == set()


def test_get_storage_builds_from_config_once(tmp_path, make_s3):
    app = Flask(__name__)
    app.config.update(STORAGE="local", STORAGE_LOCAL_ROOT=str(tmp_path / "files"))
    with app.app_context():
        storage = get_storage()
        assert isinstance(storage, LocalStorage) and storage.root == tmp_path / "files"
        assert get_storage() is storage
    make_s3("cfg-bucket", create_bucket=True)  # starts moto and creates the bucket
    s3 = build_storage({
        "STORAGE": "s3", "S3_BUCKET": "cfg-bucket", "S3_ENDPOINT_URL": "",
        "S3_REGION": "us-east-1", "S3_PUBLIC_ENDPOINT_URL": "https://files.example.org",
    })
    assert isinstance(s3, S3Storage) and s3.public_endpoint_url == "https://files.example.org"
    assert s3.endpoint_url is None  # "" means AWS itself
    with pytest.raises(ValueError):
        build_storage({"STORAGE": "ftp"})


# -- verify ----------------------------------------------------------------------------


def test_verify_reports_missing_resized_and_altered_files(app_ctx, storage):
    add_blob(storage, "good")
    missing = add_blob(storage, "missing")
    resized = add_blob(storage, "resized", b"12345")
    altered = add_blob(storage, "altered", b"12345")
    add_blob(storage, "purged", purged=True)
    storage.delete("missing")
    storage.delete("purged")  # purged files are gone on purpose: not a problem
    put(storage, "resized", b"123456")
    put(storage, "altered", b"54321")

    result = verify()
    assert result.checked == 4
    assert {(p.blob_id, p.kind) for p in result} == {
        (missing.id, "missing"), (resized.id, "size"), (altered.id, "sha256"),
    }
    assert "size is 6, expected 5" in str(next(p for p in result if p.kind == "size"))


# -- sweep -----------------------------------------------------------------------------


def test_sweep_removes_old_orphans_only(app_ctx, storage):
    add_blob(storage, "referenced")
    add_blob(storage, "purged", purged=True)  # file left behind by a crashed purge
    put(storage, "orphan")
    put(storage, "pending")  # a finished chunked upload, its Blob row not made yet
    now = utcnow() + 2 * DAY
    add_pending("pending", "upload-of-pending", updated_at=now - timedelta(hours=1))

    assert sweep(DAY).deleted_keys == []  # everything is younger than a day
    report = sweep(DAY, now=now)
    assert sorted(report.deleted_keys) == ["orphan", "purged"]
    assert keys(storage) == {"referenced", "pending"}


@pytest.mark.parametrize("backend", ["local"])
def test_sweep_keeps_young_orphans(app_ctx, storage):
    put(storage, "old-orphan")
    put(storage, "young-orphan")
    make_old(storage, "old-orphan")
    assert sweep(DAY).deleted_keys == ["old-orphan"]
    assert keys(storage) == {"young-orphan"}


def test_sweep_aborts_abandoned_multipart_uploads(app_ctx, storage):
    now = utcnow() + 2 * DAY
    orphan_id = storage.start_multipart("no-row", "application/pdf")
    active_id = storage.start_multipart("active", "application/pdf")
    stale_id = storage.start_multipart("stale", "application/pdf")
    for key, upload_id in (("active", active_id), ("stale", stale_id)):
        storage.put_part(key, upload_id, 1, io.BytesIO(b"part"))
    active = add_pending("active", active_id, updated_at=now - timedelta(hours=1))
    stale = add_pending("stale", stale_id, updated_at=now - 2 * DAY)
    gone = add_pending("gone", "upload-no-longer-in-storage", updated_at=now - 2 * DAY)

    if isinstance(storage, LocalStorage):  # moto reports every upload as started in 2010
        assert sweep(DAY).aborted_uploads == []  # all started just now
    report = sweep(DAY, now=now)
    assert sorted(report.aborted_uploads) == [("no-row", orphan_id), ("stale", stale_id)]
    assert sorted(report.removed_pending) == sorted([stale.id, gone.id])
    assert [u for _, u, _ in storage.iter_multipart_uploads()] == [active_id]
    assert db.session.scalars(select(PendingUpload.key)).all() == ["active"]
    assert active.id


def test_sweep_dry_run_changes_nothing(app_ctx, storage):
    put(storage, "orphan")
    upload_id = storage.start_multipart("no-row", "application/pdf")
    report = sweep(DAY, now=utcnow() + 2 * DAY, dry_run=True)
    assert report.deleted_keys == ["orphan"]
    assert report.aborted_uploads == [("no-row", upload_id)]
    assert keys(storage) == {"orphan"}
    assert len(list(storage.iter_multipart_uploads())) == 1


# -- commands --------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["local"])
def test_commands(app_ctx, storage):
    app_ctx.cli.add_command(storage_cli)
    runner = app_ctx.test_cli_runner()
    add_blob(storage, "kept")
    put(storage, "orphan")
    make_old(storage, "orphan")

    result = runner.invoke(args=["storage", "verify"])
    assert result.exit_code == 0, result.output
    assert "1 files verified, 0 with problems." in result.output

    result = runner.invoke(args=["storage", "sweep", "--grace-hours", "24"])
    assert result.exit_code == 0, result.output
    assert "removed orphan file orphan" in result.output
    assert "Sweep done: 1 item(s) removed." in result.output

    storage.delete("kept")
    result = runner.invoke(args=["storage", "verify"])
    assert result.exit_code == 1
    assert "PROBLEM blob 1 (kept): file is missing" in result.output

    result = runner.invoke(args=["storage", "sweep", "--grace-hours", "0"])
    assert result.exit_code == 2  # a zero grace would race uploads in flight
