"""Single downloads and previews: headers, content, names and the audit log."""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.institutions.models import Institution
from portal.intake.archive import ascii_part, file_name
from portal.nominations.models import NominationDocument, NominationState
from tests.nominations.factories import jpeg_bytes, make_cycle, make_nomination, pdf_bytes


def _documents(factory):  # noqa: ANN001, ANN202
    hospital = factory.institution(name="Bệnh viện Bạch Mai", country="VN")
    cycle = make_cycle()
    nomination = make_nomination(cycle, hospital, state=NominationState.SUBMITTED,
                                 family_name="Nguyễn", given_names="Văn Đức",
                                 documents=("passport", "photo"))
    docs = db.session.scalars(select(NominationDocument).where(
        NominationDocument.nomination_id == nomination.id)
        .order_by(NominationDocument.id)).all()
    return nomination, docs[0], docs[1]


def _downloads(document_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.downloaded",
        AuditEvent.object_id == str(document_id))))


def test_download_is_an_attachment_with_a_safe_name_and_is_logged(client, factory,  # noqa: ANN001
                                                                  staff) -> None:
    nomination, passport, _photo = _documents(factory)

    response = client.get(f"/staff/nominations/documents/{passport.id}/download")

    assert response.status_code == 200
    assert response.data == pdf_bytes()
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="Vietnam_Benh-vien-Bach-Mai_Nguyen-Van-Duc_passport.pdf"')
    assert response.headers["Content-Length"] == str(len(pdf_bytes()))
    [event] = _downloads(passport.id)
    assert event.actor_id == staff.id
    assert event.details["how"] == "attachment"
    assert event.details["sensitive"] is True
    assert event.details["nomination_id"] == nomination.id


def test_preview_is_sandboxed_inline_and_logged(client, factory, staff) -> None:  # noqa: ANN001
    _nomination, passport, photo = _documents(factory)

    for document, data, kind in ((passport, pdf_bytes(), "application/pdf"),
                                 (photo, jpeg_bytes(), "image/jpeg")):
        response = client.get(f"/staff/nominations/documents/{document.id}/preview")
        assert response.status_code == 200
        assert response.data == data  # the stored (checked) file, nothing else
        assert response.headers["Content-Type"] == kind
        policy = [p.strip() for p in response.headers["Content-Security-Policy"].split(";")]
        assert "sandbox" in policy
        assert "script-src 'self'" not in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"].startswith("inline;")
        assert [e.details["how"] for e in _downloads(document.id)] == ["preview"]


def test_missing_file_or_unknown_document_is_404_and_not_logged(client, factory,  # noqa: ANN001
                                                               staff) -> None:
    from portal.storage import get_storage
    from portal.storage.models import Blob

    _nomination, passport, _photo = _documents(factory)
    get_storage().delete(db.session.get(Blob, passport.blob_id).key)

    assert client.get(f"/staff/nominations/documents/{passport.id}/download").status_code == 404
    assert client.get("/staff/nominations/documents/999999/download").status_code == 404
    assert client.get("/staff/nominations/documents/999999/preview").status_code == 404
    assert _downloads(passport.id) == []


def test_non_staff_cannot_download(client, factory, login_as) -> None:  # noqa: ANN001
    nomination, passport, _photo = _documents(factory)
    owner = factory.nominator(db.session.get(Institution, nomination.institution_id))
    login_as(owner)
    for how in ("download", "preview"):
        assert client.get(f"/staff/nominations/documents/{passport.id}/{how}"
                          ).status_code == 403
    assert client.get(f"/staff/nominations/{nomination.id}/dossier.zip").status_code == 403
    assert _downloads(passport.id) == []


def test_file_names_are_ascii_and_say_what_they_are() -> None:
    assert ascii_part("Nguyễn Văn Đức") == "Nguyen-Van-Duc"
    assert ascii_part("Łódź / Øresund: Straße") == "Lodz-Oresund-Strasse"
    assert ascii_part("โรงพยาบาล") == ""  # Thai script: nothing ASCII to keep
    name = file_name("TH", "โรงพยาบาล", "", "", "N-ABC", "health", "image/png")
    assert name == "Thailand_Institution_N-ABC_health.png"
    long = file_name("PH", "A" * 300, "B" * 300, "", "N-1", "cv", "application/pdf")
    assert len(long) < 200 and long.endswith("_cv.pdf")
