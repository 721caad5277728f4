"""Handing files out (portal.storage.handout): the one way a stored file leaves.

Every hand-out is run through the commit point (`_transaction`, what wraps every view), so
the audit row is checked as it is committed, and the body is read only afterwards, as a
browser would."""

from __future__ import annotations

import hashlib
import io
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.extensions import db
from portal.storage.base import Storage
from portal.storage.handout import (
    ATTACHMENT_CSP,
    PRESIGNED_STATUS,
    PREVIEW_CSP,
    Item,
    blob_item,
    send_generated,
    send_item,
    send_zip,
)
from portal.storage.models import Blob
from portal.transaction import _transaction
from tests.factories import Factory

DATA = b"%PDF-1.4 a passport scan\n" * 100


@pytest.fixture
def staff(app_ctx: Flask) -> User:
    user = Factory().staff()
    db.session.commit()
    return user


def stored_blob(storage: Storage, key: str = "passport-1", *, purged: bool = False) -> Blob:
    storage.put(io.BytesIO(DATA), key, content_type="application/pdf")
    blob = Blob(key=key, size=len(DATA), sha256=hashlib.sha256(DATA).hexdigest(),
                content_type="application/pdf", original_name="Pässport scan.PDF",
                purged_at=utcnow() if purged else None)
    db.session.add(blob)
    db.session.commit()
    return blob


def hand_out(app: Flask, make: Callable[[], Response]) -> Response:
    """`make` inside a request, through the commit point, as a view would run."""
    with app.test_request_context("/download", method="GET"):
        return _transaction(make)


def handouts() -> list[AuditEvent]:
    db.session.rollback()  # what the hand-out committed, not what this session holds
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.downloaded").order_by(AuditEvent.id)))


def body(response: Response) -> bytes:
    return b"".join(response.response)


@pytest.mark.parametrize("backend", ["local"])
def test_an_attachment_is_logged_then_streamed_with_the_safe_headers(
        app_ctx: Flask, storage: Storage, staff: User) -> None:
    blob = stored_blob(storage)
    response = hand_out(app_ctx, lambda: send_item(
        blob_item(blob, object_type="document", object_id=7), actor=staff))

    [row] = handouts()  # committed before a byte of the file was read
    assert (row.actor_id, row.object_type, row.object_id) == (staff.id, "document", "7")
    assert row.details == {"name": "Pässport scan.pdf", "size": len(DATA), "how": "attachment"}
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''P%C3%A4ssport%20scan.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Security-Policy"] == ATTACHMENT_CSP
    assert response.headers["Content-Length"] == str(len(DATA))
    assert response.mimetype == "application/pdf"
    assert body(response) == DATA


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_a_preview_is_inline_and_sandboxed_and_passes_through_the_portal(
        app_ctx: Flask, storage: Storage, staff: User) -> None:
    blob = stored_blob(storage)
    response = hand_out(app_ctx, lambda: send_item(blob_item(blob), actor=staff, inline=True))

    assert response.status_code == 200  # never a redirect: the sandbox must travel along
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["Content-Security-Policy"] == PREVIEW_CSP == \
        "sandbox; frame-ancestors 'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert body(response) == DATA
    assert [r.details["how"] for r in handouts()] == ["preview"]


@pytest.mark.parametrize("backend", ["s3"])
def test_on_s3_an_attachment_is_a_303_to_a_short_presigned_link(
        app_ctx: Flask, storage: Storage, staff: User) -> None:
    blob = stored_blob(storage)
    response = hand_out(app_ctx, lambda: send_item(blob_item(blob), actor=staff))

    assert response.status_code == PRESIGNED_STATUS == 303
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "private, no-store"
    link = response.headers["Location"]
    assert "X-Amz-Expires=60" in link and blob.key in link
    assert [r.details["how"] for r in handouts()] == ["presigned_url"]
    with urllib.request.urlopen(link, timeout=10) as fetched:  # noqa: S310 (the moto server)
        assert fetched.read() == DATA
        assert fetched.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_a_purged_blob_is_a_404_and_nothing_is_logged(
        app_ctx: Flask, storage: Storage, staff: User) -> None:
    blob = stored_blob(storage, purged=True)
    with pytest.raises(NotFound):
        hand_out(app_ctx, lambda: send_item(blob_item(blob), actor=staff))
    assert handouts() == []


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_a_file_gone_from_the_storage_is_a_404_and_nothing_is_logged(
        app_ctx: Flask, storage: Storage, staff: User) -> None:
    blob = stored_blob(storage)
    storage.delete(blob.key)
    with pytest.raises(NotFound):
        hand_out(app_ctx, lambda: send_item(blob_item(blob), actor=staff, inline=True))
    assert handouts() == []


@pytest.mark.parametrize("backend", ["local"])
def test_a_zip_logs_every_member_with_the_archive_name(
        app_ctx: Flask, storage: Storage, staff: User) -> None:
    first, second = stored_blob(storage, "scan-a"), stored_blob(storage, "scan-b")

    def chunks() -> Iterator[bytes]:
        yield b"PK..."

    items: list[Item] = [blob_item(first), blob_item(second)]
    response = hand_out(app_ctx, lambda: send_zip(items, "dossiers.zip", chunks(),
                                                    actor=staff))
    rows = handouts()
    assert [(r.object_id, r.details["how"], r.details["archive"]) for r in rows] == [
        (str(first.id), "zip", "dossiers.zip"), (str(second.id), "zip", "dossiers.zip")]
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Accel-Buffering"] == "no"
    assert response.headers["Content-Security-Policy"] == ATTACHMENT_CSP
    assert body(response) == b"PK..."


@pytest.mark.parametrize("backend", ["local"])
def test_a_generated_file_carries_the_same_headers(app_ctx: Flask) -> None:
    response = hand_out(app_ctx, lambda: send_generated(b"BEGIN:VCALENDAR", "lecture.ics",
                                                          "text/calendar"))
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Security-Policy"] == ATTACHMENT_CSP
