"""Every Storage operation, on the local folder and on S3 (moto server over HTTP)."""

from __future__ import annotations

import hashlib
import io
import os
import urllib.request
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.exceptions import ClientError

from portal.storage.base import CHUNK, MIN_PART_SIZE, FileView, InvalidKey, NotFound
from portal.storage.local import LocalStorage
from portal.storage.s3 import PUT_PART_SIZE


class OneWayStream:
    """A stream without seek or tell, like a request body."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._buf.read(n)


def blob(size: int, seed: bytes = b"s") -> bytes:
    block = hashlib.sha256(seed).digest() * (CHUNK // 32)
    return (block * (size // len(block) + 1))[:size]


def read_all(storage, key: str) -> bytes:
    return b"".join(storage.open(key))


def test_put_open_size_delete(storage):
    data = blob(2 * CHUNK + 123)
    size, digest = storage.put(OneWayStream(data), "k1", content_type="application/pdf")
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert storage.exists("k1") and storage.size("k1") == len(data)
    chunks = list(storage.open("k1"))
    assert b"".join(chunks) == data and max(map(len, chunks)) <= CHUNK
    storage.put(io.BytesIO(b"new"), "k1", content_type="text/plain")  # replaces
    assert read_all(storage, "k1") == b"new"
    storage.delete("k1")
    assert not storage.exists("k1") and storage.size("k1") is None
    storage.delete("k1")  # deleting again is fine
    with pytest.raises(NotFound):
        storage.open("k1")


def test_put_larger_than_one_part(storage):
    # On S3 this goes through put()'s own multipart path.
    data = blob(PUT_PART_SIZE + 5, b"big")
    size, digest = storage.put(OneWayStream(data), "big", content_type="image/png")
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert read_all(storage, "big") == data
    assert list(storage.iter_multipart_uploads()) == []


@pytest.mark.parametrize("source", ["file", "view", "memory"])
def test_put_of_a_seekable_file(storage, tmp_path, source):
    # Uploads arrive as temporary files: stored in one request, hashed correctly.
    data = blob(3 * CHUNK + 7, b"seekable")
    path = tmp_path / "scan.pdf"
    path.write_bytes(data)
    with path.open("rb") as f:
        stream = {"file": f, "view": FileView(f), "memory": io.BytesIO(data)}[source]
        size, digest = storage.put(stream, "scan", content_type="application/pdf")
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert read_all(storage, "scan") == data


def test_file_view_reads_without_moving_the_file(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    with path.open("rb") as f:
        f.seek(3)
        view = FileView(f)
        assert view.read(4) == b"0123" and view.tell() == 4
        assert f.tell() == 3 and f.read(2) == b"34"  # the file's own position is untouched
        assert view.seek(-2, os.SEEK_END) == 8 and view.read() == b"89" and view.read(5) == b""
        with pytest.raises(ValueError):
            view.seek(-1)
    assert FileView.of(io.BytesIO(b"in memory")) is None  # no descriptor to share


def test_empty_file(storage):
    assert storage.put(io.BytesIO(b""), "empty", content_type="text/plain")[0] == 0
    assert storage.size("empty") == 0 and read_all(storage, "empty") == b""


def test_iter_keys_lists_keys_with_utc_times(storage):
    before = datetime.now(UTC) - timedelta(seconds=5)
    for key in ("abc", "ab/c-d_e", "x"):
        storage.put(io.BytesIO(key.encode()), key, content_type="text/plain")
    listed = dict(storage.iter_keys())
    assert set(listed) == {"abc", "ab/c-d_e", "x"}
    after = datetime.now(UTC) + timedelta(seconds=5)
    for when in listed.values():
        assert when.tzinfo is not None and before <= when <= after


UNSAFE_KEYS = ["../etc/passwd", "a/../../b", "/abs", "UPPER", "a\\b", "", "a//b", "a/", "a.b",
               "x" * 201, "ü"]


def test_unsafe_keys_are_refused(storage):
    for key in UNSAFE_KEYS:
        with pytest.raises(InvalidKey):
            storage.put(io.BytesIO(b"x"), key, content_type="text/plain")
        for call in (storage.open, storage.size, storage.delete):
            with pytest.raises(InvalidKey):
                call(key)
        with pytest.raises(InvalidKey):
            storage.start_multipart(key, "text/plain")
    assert list(storage.iter_keys()) == []


def test_multipart_upload_resumed_by_another_instance(storage, make_storage):
    p1, p2, p3 = blob(MIN_PART_SIZE, b"1"), blob(MIN_PART_SIZE, b"2"), b"the end"
    upload_id = storage.start_multipart("scan", "application/pdf")
    t1 = storage.put_part("scan", upload_id, 1, OneWayStream(p1))
    t2 = storage.put_part("scan", upload_id, 2, io.BytesIO(p2))

    other = make_storage()  # e.g. the next request lands on another worker
    assert [(k, u) for k, u, _ in other.iter_multipart_uploads()] == [("scan", upload_id)]
    t3 = other.put_part("scan", upload_id, 3, io.BytesIO(p3))
    other.complete_multipart("scan", upload_id, [(3, t3), (1, t1), (2, t2)])

    assert read_all(storage, "scan") == p1 + p2 + p3
    assert list(storage.iter_multipart_uploads()) == []


def test_multipart_part_can_be_sent_again(storage):
    upload_id = storage.start_multipart("again", "application/pdf")
    storage.put_part("again", upload_id, 1, io.BytesIO(b"broken"))
    token = storage.put_part("again", upload_id, 1, io.BytesIO(b"fixed"))
    storage.complete_multipart("again", upload_id, [(1, token)])
    assert read_all(storage, "again") == b"fixed"


def test_multipart_refuses_small_middle_parts(storage):
    upload_id = storage.start_multipart("small", "application/pdf")
    t1 = storage.put_part("small", upload_id, 1, io.BytesIO(b"tiny"))
    t2 = storage.put_part("small", upload_id, 2, io.BytesIO(b"tiny"))
    with pytest.raises((ValueError, ClientError)):
        storage.complete_multipart("small", upload_id, [(1, t1), (2, t2)])
    assert not storage.exists("small")


def test_multipart_abort(storage):
    upload_id = storage.start_multipart("gone", "application/pdf")
    storage.put_part("gone", upload_id, 1, io.BytesIO(b"part"))
    storage.abort_multipart("gone", upload_id)
    assert list(storage.iter_multipart_uploads()) == []
    storage.abort_multipart("gone", upload_id)  # twice is fine
    if isinstance(storage, LocalStorage):  # moto answers 500 here where S3 says NoSuchUpload
        with pytest.raises(NotFound):
            storage.put_part("gone", upload_id, 2, io.BytesIO(b"late"))
    assert not storage.exists("gone")


def test_ping(storage):
    storage.ping()


def test_local_has_no_download_urls(tmp_path):
    assert LocalStorage(tmp_path).url_for_download("k", "a.pdf", "application/pdf") is None


def test_local_ping_fails_without_its_folder(tmp_path):
    storage = LocalStorage(tmp_path / "gone")
    os.rmdir(tmp_path / "gone")
    with pytest.raises(OSError):
        storage.ping()


def test_failed_write_leaves_the_old_version(storage, tmp_path):
    class FailingAfter:
        """Sends more than one S3 part, then the client goes away."""

        def __init__(self, size: int) -> None:
            self.left = size

        def read(self, n: int = -1) -> bytes:
            if self.left <= 0:
                raise ConnectionResetError("client went away")
            n = min(CHUNK if n < 0 else n, self.left)
            self.left -= n
            return b"y" * n

    storage.put(io.BytesIO(b"old"), "keep", content_type="text/plain")
    with pytest.raises(ConnectionResetError):
        storage.put(FailingAfter(PUT_PART_SIZE + CHUNK), "keep", content_type="text/plain")
    assert read_all(storage, "keep") == b"old"
    assert list(storage.iter_multipart_uploads()) == []
    assert [p.name for p in tmp_path.rglob(".tmp-*")] == []


def test_local_cleanup_removes_only_old_temp_files(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.put(io.BytesIO(b"x"), "ab12", content_type="text/plain")
    old, young = tmp_path / "ab" / ".tmp-old", tmp_path / "ab" / ".tmp-young"
    old.write_bytes(b"half")
    young.write_bytes(b"half")
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    os.utime(old, (two_days_ago, two_days_ago))
    removed = storage.cleanup_temp(datetime.now(UTC) - timedelta(days=1))
    assert removed == ["ab/.tmp-old"] and young.exists()
    assert [k for k, _ in storage.iter_keys()] == ["ab12"]


def test_local_files_stay_inside_root(tmp_path):
    storage = LocalStorage(tmp_path / "root")
    storage.put(io.BytesIO(b"x"), "a/b", content_type="text/plain")
    files = [p for p in (tmp_path / "root").rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].is_relative_to(tmp_path / "root")


# -- S3 only ---------------------------------------------------------------------------


@pytest.fixture
def s3(make_s3):
    return make_s3("dl-test", create_bucket=True)


def test_s3_hashes_the_file_itself_when_the_payload_is_not_signed(s3, tmp_path):
    # Over https botocore sends the body unsigned; the digest then comes from the
    # portal's own pass over the file instead of from the signature.
    s3._signs_payload = False
    data = blob(2 * CHUNK, b"https")
    path = tmp_path / "scan.pdf"
    path.write_bytes(data)
    with path.open("rb") as f:
        assert s3.put(f, "unsigned", content_type="application/pdf") == (
            len(data), hashlib.sha256(data).hexdigest())
    assert read_all(s3, "unsigned") == data


def test_presigned_url_downloads_as_attachment(s3):
    s3.put(io.BytesIO(b"%PDF-1.7 hello"), "doc1", content_type="application/pdf")
    url = s3.url_for_download("doc1", "Résumé \"final\".pdf", "application/pdf", expires=3600)
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["60"]  # clamped
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our own URL)
        assert response.read() == b"%PDF-1.7 hello"
        disposition = response.headers["Content-Disposition"]
        assert response.headers["Content-Type"] == "application/pdf"
    assert disposition.startswith('attachment; filename="R_sum_ _final_.pdf"')
    assert "filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf" in disposition


def test_presigned_url_inline(s3):
    s3.put(io.BytesIO(b"png"), "img1", content_type="image/png")
    url = s3.url_for_download("img1", "a.png", "image/png", inline=True)
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        assert response.headers["Content-Disposition"].startswith("inline;")


def test_presigned_url_uses_the_public_endpoint(make_s3):
    storage = make_s3("pub-test", public_endpoint_url="https://files.example.org")
    url = storage.url_for_download("doc1", "a.pdf", "application/pdf")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "files.example.org",
                                                        "/pub-test/doc1")


def test_s3_ping_fails_for_a_missing_bucket(make_s3):
    with pytest.raises(ClientError):
        make_s3("no-such-bucket-here").ping()


def test_s3_leaves_foreign_objects_out_of_the_listing(s3):
    s3._client.put_object(Bucket="dl-test", Key="Other App/x.txt", Body=b"x")
    assert "Other App/x.txt" not in dict(s3.iter_keys())
