"""The staff page of one nomination: facts, documents, history, return, under review."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.nominations.models import NominationEvent, NominationState, ReturnNote
from tests.conftest import count_queries
from tests.nominations.factories import make_cycle, make_nomination


def _dossier(factory, **kw):  # noqa: ANN001, ANN202
    hospital = factory.institution(name="Bach Mai Hospital", country="VN")
    cycle = make_cycle()
    kw.setdefault("state", NominationState.SUBMITTED)
    nomination = make_nomination(cycle, hospital, family_name="Nguyen",
                                 given_names="Van An", native_name="Nguyễn Văn An",
                                 documents=("application", "passport", "photo"), **kw)
    return cycle, nomination


def test_page_shows_facts_documents_previews_and_history(client, factory,  # noqa: ANN001
                                                         staff) -> None:
    other = make_nomination(make_cycle(), factory.institution(), family_name="Nguyen",
                            state=NominationState.SUBMITTED)
    cycle, nomination = _dossier(factory, duplicate_flags=[{
        "kind": "prior_nomination", "match": "name_dob", "nomination_id": other.id,
        "reference": other.reference, "institution": "Hospital X", "cycle": "FY2001",
        "state": "rejected"}])

    url = f"/staff/nominations/{nomination.id}"
    with count_queries() as queries:
        response = client.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nguyễn Văn An" in html and nomination.reference in html
    assert "Passport copy" in html and "Sensitive: staff only" in html
    assert "Curriculum vitae" in html and "Not uploaded." in html
    assert "scan of passport.pdf" in html
    # Previews come from the sandboxed URL: pdf.js draws PDFs (no PDF viewer in a sandboxed
    # iframe), an img for images.
    assert '<div class="pdf-preview" data-pdf-src="/staff/nominations/documents/' in html
    assert "/static/js/pdf-preview.js" in html and "/static/vendor/pdf.min.mjs" in html
    assert '<img src="/staff/nominations/documents/' in html
    assert f'href="/staff/nominations/{other.id}"' in html  # the possible duplicate
    assert f"/staff/nominations/{nomination.id}/dossier.zip" in html
    assert "Mark under review" in html and "Return for changes" in html
    assert len(queries) <= 12  # a fixed plan: nothing per document or event


def test_return_for_changes_with_notes(client, factory, staff) -> None:  # noqa: ANN001
    cycle, nomination = _dossier(factory)
    passport = next(r for r in cycle.requirements if r.code == "passport")

    response = client.post(f"/staff/nominations/{nomination.id}/return", data={
        "comment": "Please fix two things.",
        "field_notes-0-field": "date_of_birth",
        "field_notes-0-comment": "Does not match the passport.",
        f"doc_{passport.id}": "The scan is cut off.",
    })

    assert response.status_code == 303
    db.session.expire_all()
    assert nomination.state == NominationState.RETURNED
    notes = db.session.scalars(select(ReturnNote).where(
        ReturnNote.nomination_id == nomination.id).order_by(ReturnNote.id)).all()
    assert [(n.field, n.requirement_id, n.comment) for n in notes] == [
        ("date_of_birth", None, "Does not match the passport."),
        (None, passport.id, "The scan is cut off."),
    ]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "returned to the institution for changes" in page
    assert "Does not match the passport." in page and "The scan is cut off." in page
    assert "Please fix two things." in page  # in the history


def test_return_needs_a_message(client, factory, staff) -> None:  # noqa: ANN001
    _cycle, nomination = _dossier(factory)

    response = client.post(f"/staff/nominations/{nomination.id}/return", data={
        "comment": "  ", "field_notes-0-comment": "No field chosen"})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Say what the institution should change." in html
    assert "Choose the field this comment is about." in html
    db.session.expire_all()
    assert nomination.state == NominationState.SUBMITTED


def test_mark_under_review_once(client, factory, staff) -> None:  # noqa: ANN001
    _cycle, nomination = _dossier(factory)
    url = f"/staff/nominations/{nomination.id}/under-review"

    assert client.post(url).status_code == 303
    db.session.expire_all()
    assert nomination.state == NominationState.UNDER_REVIEW
    again = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "already under review" in again
    kinds = db.session.scalars(select(NominationEvent.kind).where(
        NominationEvent.nomination_id == nomination.id)).all()
    assert kinds.count("start_review") == 1  # the history names the lifecycle's move


def test_drafts_cannot_be_returned(client, factory, staff) -> None:  # noqa: ANN001
    _cycle, nomination = _dossier(factory, state=NominationState.DRAFT)

    page = client.get(f"/staff/nominations/{nomination.id}").get_data(as_text=True)
    assert "Return to the institution" not in page
    response = client.post(f"/staff/nominations/{nomination.id}/return",
                           data={"comment": "Fix it"}, follow_redirects=True)
    assert "Only submitted nominations can be returned" in response.get_data(as_text=True)
    db.session.expire_all()
    assert nomination.state == NominationState.DRAFT


def test_unknown_nomination_is_404(client, staff) -> None:  # noqa: ANN001
    assert client.get("/staff/nominations/999999").status_code == 404
    assert client.post("/staff/nominations/999999/under-review").status_code == 404
