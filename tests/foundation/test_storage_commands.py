"""`flask storage verify` and `flask storage sweep` on the local storage."""

from __future__ import annotations

import hashlib
import io
import os
import time

from portal.db import new_key
from portal.extensions import db
from portal.storage import Blob, get_storage


def _stored(data: bytes) -> Blob:
    key = new_key()
    size, sha256 = get_storage().put(io.BytesIO(data), key, content_type="application/pdf")
    assert (size, sha256) == (len(data), hashlib.sha256(data).hexdigest())
    blob = Blob(key=key, size=size, sha256=sha256, content_type="application/pdf",
                original_name="cv.pdf")
    db.session.add(blob)
    db.session.commit()
    return blob


def _path(key: str):  # noqa: ANN202
    root = get_storage().root
    [found] = [p for p in root.rglob("*") if p.is_file() and p.name == key]
    return found


def test_verify_finds_missing_and_changed_files(app_ctx) -> None:  # noqa: ANN001
    runner = app_ctx.test_cli_runner()
    good, changed, missing = _stored(b"good"), _stored(b"will change"), _stored(b"gone")
    result = runner.invoke(args=["storage", "verify"])
    assert result.exit_code == 0, result.output
    assert "3 files verified, 0 with problems." in result.output

    _path(changed.key).write_bytes(b"will chang3")  # same size, other content
    get_storage().delete(missing.key)
    result = runner.invoke(args=["storage", "verify"])
    assert result.exit_code == 1
    assert f"blob {changed.id} ({changed.key}): content does not match" in result.output
    assert f"blob {missing.id} ({missing.key}): file is missing" in result.output
    assert str(good.key) not in result.output


def test_sweep_removes_old_orphans_only(app_ctx) -> None:  # noqa: ANN001
    kept = _stored(b"a row points here")
    storage = get_storage()
    old_orphan, new_orphan = new_key(), new_key()
    storage.put(io.BytesIO(b"nobody"), old_orphan, content_type="application/pdf")
    storage.put(io.BytesIO(b"in flight"), new_orphan, content_type="application/pdf")
    two_days_ago = time.time() - 48 * 3600
    for key in (kept.key, old_orphan):
        os.utime(_path(key), (two_days_ago, two_days_ago))

    runner = app_ctx.test_cli_runner()
    dry = runner.invoke(args=["storage", "sweep", "--dry-run"])
    assert dry.exit_code == 0 and f"would remove orphan file {old_orphan}" in dry.output
    assert storage.exists(old_orphan)

    result = runner.invoke(args=["storage", "sweep"])
    assert result.exit_code == 0, result.output
    assert f"removed orphan file {old_orphan}" in result.output
    assert not storage.exists(old_orphan)
    assert storage.exists(kept.key) and storage.exists(new_orphan)
    assert runner.invoke(args=["storage", "verify"]).exit_code == 0
