"""The institution's workspace: overview, drafts saved in sections, isolation between
institutions, and no editing after submission."""

from __future__ import annotations

import io

from sqlalchemy import select

from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.models import Nomination, NominationState
from tests.nominations.factories import make_nomination

HTMX = {"HX-Request": "true"}


def test_dashboard_shows_deadline_in_both_zones_counts_and_missing(client, nominator, cycle):
    cycle.max_submissions_per_institution = 3
    db.session.commit()
    institution = db.session.get(Institution, nominator.institution_id)
    make_nomination(cycle, institution, state=NominationState.SUBMITTED)
    make_nomination(cycle, institution, complete=False, family_name="Incomplete")
    page = client.get("/dashboard").get_data(as_text=True)
    assert cycle.name in page
    assert "Malaysia Time" in page  # the institution's zone (Kuala Lumpur)
    assert "Japan Standard Time" in page  # and Japan time
    assert "days and" in page  # the countdown
    assert "Submitted: 1 of at most 3" in page
    assert "Passport number" in page  # what the incomplete draft still misses
    assert "Start a new nomination" in page


def test_create_draft_and_autosave_sections(client, nominator, cycle):
    response = client.post("/nominations/new", data={"cycle_id": cycle.id})
    assert response.status_code == 303
    nomination = db.session.scalars(select(Nomination)).one()
    assert nomination.state == NominationState.DRAFT
    assert nomination.institution_id == nominator.institution_id
    url = f"/nominations/{nomination.id}/sections/identity"
    # htmx autosave: valid fields are kept, the wrong one is named next to its field.
    response = client.post(url, headers=HTMX, data={
        "identity-family_name": "Nguyễn", "identity-given_names": "Van An",
        "identity-native_name": "Nguyễn Văn An", "identity-date_of_birth": "1990-02-30",
        "identity-passport_number": "c 123 4567", "identity-nationality": "VN"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="identity-date_of_birth-error"' in html
    assert "Saved, except the fields marked in red" in html
    db.session.expire_all()
    nomination = db.session.get(Nomination, nomination.id)
    assert nomination.family_name == "Nguyễn"
    assert nomination.native_name == "Nguyễn Văn An"
    assert nomination.passport_number == "C1234567"  # kept in a comparable form
    assert nomination.date_of_birth is None


def test_passport_names_are_latin_and_one_name_people_are_fine(client, nominator, cycle):
    client.post("/nominations/new", data={"cycle_id": cycle.id})
    nomination = db.session.scalars(select(Nomination)).one()
    url = f"/nominations/{nomination.id}/sections/identity"
    refused = client.post(url, headers=HTMX, data={"identity-family_name": "陈"})
    assert refused.status_code == 422
    assert "Latin letters" in refused.get_data(as_text=True)
    ok = client.post(url, headers=HTMX, data={"identity-family_name": "Sukarno",
                                              "identity-given_names": ""})
    assert ok.status_code == 200
    assert "Saved" in ok.get_data(as_text=True)
    # Without JavaScript the same form posts and redirects back.
    plain = client.post(url, data={"identity-family_name": "Sukarno"})
    assert plain.status_code == 303


def test_institution_a_never_sees_b(client, factory, login_as, cycle):
    a = factory.institution(name="A Hospital")
    b = factory.institution(name="B Hospital", country="VN", timezone="Asia/Ho_Chi_Minh")
    theirs = make_nomination(cycle, b, family_name="Secretname")
    doc_req = cycle.requirements[0]
    login_as(factory.nominator(a))
    for url in (f"/nominations/{theirs.id}", f"/nominations/{theirs.id}/edit",
                f"/nominations/{theirs.id}/panel",
                f"/nominations/{theirs.id}/documents/{doc_req.id}",
                f"/nominations/{theirs.id}/documents/{doc_req.id}/file"):
        response = client.get(url, headers=HTMX)
        assert response.status_code == 404, url
        assert b"Secretname" not in response.data
    for url, data in ((f"/nominations/{theirs.id}/sections/identity",
                       {"identity-family_name": "Hacked"}),
                      (f"/nominations/{theirs.id}/submit", {}),
                      (f"/nominations/{theirs.id}/documents/{doc_req.id}/remove", {}),
                      (f"/nominations/{theirs.id}/withdraw", {"reason": "mine now"})):
        assert client.post(url, data=data).status_code == 404, url
    assert b"Secretname" not in client.get("/nominations").data
    assert b"Secretname" not in client.get("/dashboard").data
    db.session.expire_all()
    assert db.session.get(Nomination, theirs.id).family_name == "Secretname"
    assert db.session.get(Nomination, theirs.id).state == NominationState.DRAFT


def test_nominators_cannot_edit_after_submission(client, nominator, cycle):
    nomination = make_nomination(cycle, db.session.get(Institution, nominator.institution_id),
                                 state=NominationState.SUBMITTED, family_name="Locked")
    req = cycle.requirements[0]
    response = client.post(f"/nominations/{nomination.id}/sections/identity", headers=HTMX,
                           data={"identity-family_name": "Changed"})
    assert response.status_code == 409
    assert client.post(f"/nominations/{nomination.id}/sections/identity",
                       data={"identity-family_name": "Changed"}).status_code == 303
    edit = client.get(f"/nominations/{nomination.id}/edit")
    assert edit.status_code == 303  # back to the read-only page
    upload = client.post(f"/nominations/{nomination.id}/documents/{req.id}", headers=HTMX,
                         data={"file": (io.BytesIO(b"%PDF-1.4"), "x.pdf")})
    assert upload.status_code == 409
    remove = client.post(f"/nominations/{nomination.id}/documents/{req.id}/remove",
                         headers=HTMX)
    assert remove.status_code == 409
    db.session.expire_all()
    again = db.session.get(Nomination, nomination.id)
    assert again.family_name == "Locked"
    page = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert "upload-form" not in page and "Edit candidate details" not in page
    assert "Uploaded" in page  # the files are still listed, read-only
