"""Demo data: an open FY2027 with realistic requirements and the two demo institutions'
nominations in every state, with real files; the pages show them."""

from __future__ import annotations

from sqlalchemy import func, select

from portal import demo
from portal.cycles.models import Cycle, CycleStatus
from portal.extensions import db
from portal.nominations.models import Nomination, NominationDocument, NominationState
from portal.storage import Blob, get_storage
from tests.conftest import login


def test_demo_cycles_nominations_and_pages(app_ctx, client):
    people = demo.load()
    db.session.commit()
    fy27 = db.session.scalars(select(Cycle).where(Cycle.name == "FY2027")).one()
    fy25 = db.session.scalars(select(Cycle).where(Cycle.name == "FY2025")).one()
    assert fy27.is_open() and fy25.status == CycleStatus.CLOSED
    codes = {r.code for r in fy27.requirements}
    # The checklist, and the anonymised CV the blind review of the demo asks for.
    assert codes == {"application_form", "cv", "cv_anonymised", "licence", "diploma",
                     "passport", "english", "health", "recommendation", "photo"}
    sensitive = {r.code for r in fy27.requirements if r.sensitivity == "sensitive"}
    assert sensitive == {"passport", "health"}
    states = set(db.session.scalars(select(Nomination.state)))
    # Every state, but the open cycle's submitted ones went under review when the demo's
    # review assigned them.
    assert states == {str(s) for s in NominationState} - {"submitted", "resubmitted"}
    for key in ("kl", "hanoi"):
        institution = people["institutions"][key]
        mine = db.session.scalar(select(func.count(Nomination.id)).where(
            Nomination.institution_id == institution.id, Nomination.cycle_id == fy27.id))
        assert mine >= 4
    types = dict(db.session.execute(select(Blob.content_type, func.count(Blob.id))
                                    .group_by(Blob.content_type)).all())
    assert types["application/pdf"] > 50 and types["image/jpeg"] > 10
    blob = db.session.scalars(select(Blob).where(Blob.content_type == "application/pdf")
                              ).first()
    assert b"".join(get_storage().open(blob.key)).startswith(b"%PDF-")

    returned = db.session.scalars(select(Nomination).where(
        Nomination.state == NominationState.RETURNED)).one()
    login(client, people["nominator_kl"], "demo-pass-2026")
    overview = client.get("/nominations").get_data(as_text=True)
    assert "FY2027" in overview and "FY2025" in overview and "Accepted" in overview
    page = client.get(f"/nominations/{returned.id}").get_data(as_text=True)
    assert "Returned for changes" in page and "renew it" in page
    assert client.get(f"/nominations/{returned.id}/edit").status_code == 200
    doc = db.session.scalars(select(NominationDocument).where(
        NominationDocument.nomination_id == returned.id)).first()
    file = client.get(f"/nominations/{returned.id}/documents/{doc.requirement_id}/file")
    assert file.status_code == 200
    hanoi_nomination = db.session.scalars(select(Nomination).where(
        Nomination.institution_id == people["institutions"]["hanoi"].id)).first()
    assert client.get(f"/nominations/{hanoi_nomination.id}").status_code == 404
    client.post("/logout")
    login(client, people["admin"], "demo-pass-2026")
    assert "FY2027" in client.get("/admin/cycles").get_data(as_text=True)
    assert client.get(f"/admin/cycles/{fy27.id}").status_code == 200
    assert client.get(f"/nominations/{returned.id}").status_code == 200
