"""Zips of one dossier and of a filtered list: streamed, named, every file logged first."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace

from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.intake.archive import FileEntry, stream_zip
from portal.nominations.models import NominationState
from portal.storage import get_storage
from tests.nominations.factories import jpeg_bytes, make_cycle, make_nomination, pdf_bytes


def _committed_downloads() -> int:
    """Download events visible to another connection, i.e. committed."""
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "document.downloaded")).scalar_one()


def test_dossier_zip_is_streamed_named_and_logged_before_streaming(client, factory,  # noqa: ANN001
                                                                   staff) -> None:
    hospital = factory.institution(name="Kuala Lumpur General", country="MY")
    cycle = make_cycle()
    nomination = make_nomination(cycle, hospital, state=NominationState.SUBMITTED,
                                 family_name="Tan", given_names="Wei Ming",
                                 documents=("application", "cv", "passport", "photo"))
    url = f"/staff/nominations/{nomination.id}/dossier.zip"

    response = client.get(url, buffered=False)
    chunks = response.iter_encoded()
    first = next(chunks)

    # The whole archive is logged (and committed) once the first bytes are out.
    assert _committed_downloads() == 4
    assert response.is_streamed and "Content-Length" not in response.headers
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = first + b"".join(chunks)
    response.close()

    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    base = "Malaysia_Kuala-Lumpur-General_Tan-Wei-Ming_"
    assert archive.namelist() == [base + "application.pdf", base + "cv.pdf",
                                  base + "passport.pdf", base + "photo.jpg"]
    assert archive.read(base + "passport.pdf") == pdf_bytes()
    assert archive.read(base + "photo.jpg") == jpeg_bytes()
    assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.downloaded")).all()
    assert {e.details["file"] for e in events} == set(archive.namelist())
    assert {e.details["how"] for e in events} == {"zip"}
    assert {e.actor_id for e in events} == {staff.id}


def test_export_zip_follows_the_filters_and_keeps_names_unique(client, factory,  # noqa: ANN001
                                                               staff) -> None:
    hospital = factory.institution(name="Kuala Lumpur General", country="MY")
    elsewhere = factory.institution(name="Philippine General", country="PH")
    cycle = make_cycle()
    # Two candidates with the same name at the same institution.
    make_nomination(cycle, hospital, state=NominationState.SUBMITTED, family_name="Tan",
                    given_names="Li", documents=("cv",))
    make_nomination(cycle, hospital, state=NominationState.SUBMITTED, family_name="Tan",
                    given_names="Li", documents=("cv", "photo"))
    make_nomination(cycle, elsewhere, state=NominationState.SUBMITTED, family_name="Santos",
                    documents=("cv",))
    make_nomination(cycle, hospital, family_name="Draft", documents=("cv",),
                    state=NominationState.DRAFT)

    response = client.get("/staff/nominations/export.zip?country=MY&state=submitted")

    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert names == ["Malaysia_Kuala-Lumpur-General_Tan-Li_cv.pdf",
                     "Malaysia_Kuala-Lumpur-General_Tan-Li_cv-2.pdf",
                     "Malaysia_Kuala-Lumpur-General_Tan-Li_photo.jpg"]
    assert _committed_downloads() == 3
    archive_names = {e.details["archive"] for e in db.session.scalars(select(AuditEvent))
                     if e.action == "document.downloaded"}
    assert len(archive_names) == 1 and archive_names.pop().startswith("nominations_")


def test_export_of_an_empty_list_says_so(client, staff) -> None:  # noqa: ANN001
    response = client.get("/staff/nominations/export.zip?country=JP", follow_redirects=True)
    assert "have no documents to download" in response.get_data(as_text=True)
    assert _committed_downloads() == 0


def test_zip_streams_in_small_pieces_and_notes_missing_files(app_ctx) -> None:  # noqa: ANN001
    """The writer never holds more than a storage chunk (memory flat whatever the size;
    bench/zip_memory.py measures 1 GB), and a file gone from the storage is named in
    the archive instead of breaking the stream."""
    storage = get_storage()
    payload = b"%PDF-1.7\n" + bytes(range(256)) * 12_000  # ~3 MB
    storage.put(io.BytesIO(payload), "intake-test-big", content_type="application/pdf")
    entry = FileEntry(key="intake-test-big", name="a.pdf", content_type="application/pdf",
                      size=len(payload), object_type="document", object_id=1,
                      details={"reference": "N-1", "requirement": "cv"})
    missing = replace(entry, key="intake-test-gone", name="b.pdf")
    pieces = list(stream_zip(storage, [entry, missing]))
    storage.delete("intake-test-big")

    assert max(len(p) for p in pieces) <= 1024 * 1024 + 1024
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert archive.read("a.pdf") == payload
    assert "MISSING_b.pdf.txt" in archive.namelist()
