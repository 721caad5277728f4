"""`flask purge-sensitive`: sensitive files of cycles past retention go; records stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.extensions import db
from portal.nominations.models import DocumentState, NominationDocument, NominationState
from portal.storage import get_storage
from portal.storage.models import Blob
from tests.nominations.factories import make_cycle, make_nomination


def _files(nomination) -> dict[str, tuple[int, str]]:  # noqa: ANN001
    """requirement code -> (document id, storage key)"""
    from portal.cycles.models import DocumentRequirement

    rows = db.session.execute(
        select(DocumentRequirement.code, NominationDocument.id, Blob.key)
        .join(NominationDocument, NominationDocument.requirement_id == DocumentRequirement.id)
        .join(Blob, Blob.id == NominationDocument.blob_id)
        .where(NominationDocument.nomination_id == nomination.id)).all()
    return {code: (doc_id, key) for code, doc_id, key in rows}


def test_purge_removes_sensitive_files_of_past_cycles_only(app_ctx, client, factory,  # noqa: ANN001
                                                           login_as) -> None:
    today = utcnow().date()
    hospital = factory.institution()
    # Training ended 400 days ago, kept 365 days: past. Ended 100 days ago: not yet.
    past = make_cycle(training_ends_on=today - timedelta(days=400), retention_days=365)
    recent = make_cycle(training_ends_on=today - timedelta(days=100), retention_days=365)
    old = make_nomination(past, hospital, state=NominationState.SUBMITTED,
                          documents=("passport", "cv"))
    new = make_nomination(recent, hospital, state=NominationState.SUBMITTED,
                          documents=("passport",))
    old_files, new_files = _files(old), _files(new)
    storage = get_storage()
    db.session.commit()  # end the test's transaction: the command writes in its own

    result = app_ctx.test_cli_runner().invoke(args=["purge-sensitive"])

    assert result.exit_code == 0, result.output
    assert "deleted 1 sensitive file(s)" in result.output
    assert past.name in result.output and recent.name not in result.output
    assert not storage.exists(old_files["passport"][1])
    assert storage.exists(old_files["cv"][1])  # not sensitive
    assert storage.exists(new_files["passport"][1])  # retention not over
    db.session.expire_all()
    purged = db.session.get(NominationDocument, old_files["passport"][0])
    assert purged.state == DocumentState.PURGED
    blob = db.session.get(Blob, purged.blob_id)
    assert blob.purged_at is not None
    assert blob.original_name == "scan of passport.pdf" and len(blob.sha256) == 64
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.purged")).all()
    assert event.object_id == str(purged.id) and event.details["sha256"] == blob.sha256
    db.session.commit()

    again = app_ctx.test_cli_runner().invoke(args=["purge-sensitive"])
    assert again.exit_code == 0 and "deleted 0 sensitive file(s)" in again.output
    assert db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == "document.purged", AuditEvent.id != event.id)) is None

    # Staff see that it existed, and cannot download what is gone.
    login_as(factory.staff())
    page = client.get(f"/staff/nominations/{old.id}").get_data(as_text=True)
    assert "Deleted after the retention period" in page
    download = f"/staff/nominations/documents/{old_files['passport'][0]}/download"
    assert client.get(download).status_code == 404


def test_nothing_due_says_so(app_ctx) -> None:  # noqa: ANN001
    make_cycle()
    db.session.commit()
    result = app_ctx.test_cli_runner().invoke(args=["purge-sensitive", "--dry-run"])
    assert result.exit_code == 0
    assert "No cycle is past its retention period." in result.output
