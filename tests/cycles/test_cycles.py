"""Staff set up a cycle: window in its own time zone (stored UTC), rules, specialties,
document requirements, publishing, copying for the next year."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal.cycles.models import Cycle, CycleStatus, DocumentRequirement
from portal.extensions import db
from tests.nominations.factories import make_cycle, make_nomination

FORM = {
    "name": "FY2031", "window_timezone": "Asia/Kuala_Lumpur",
    "opens_local": "2030-10-01T09:00", "closes_local": "2030-12-15T17:00",
    "training_starts_on": "2031-05-12", "training_ends_on": "2031-08-29",
    "retention_days": "400", "specialties": "cardiology: Cardiology\nRadiology",
    "seats_total": "20", "seats_per_country": "4", "seats_per_institution": "2",
    "max_submissions_per_institution": "5", "max_submissions_per_country": "",
    "min_experience_years": "2", "max_experience_years": "5", "min_age": "",
    "max_age": "45", "english_evidence_required": "y", "prior_participation": "lower_priority",
    "endorsement_required": "y", "consent_text": "I agree to the transfer to Japan.",
}
PASSPORT = {
    "code": "passport", "label": "Passport copy", "help_text": "Photo page",
    "required": "y", "accepted_types": ["pdf", "jpeg"], "max_size_mb": "8",
    "validity_rule": "valid_months_after_training", "validity_param": "6",
    "sensitivity": "sensitive", "reviewer_visibility": "never", "position": "3",
}


@pytest.fixture
def staff(factory, login_as):  # noqa: ANN001, ANN201
    user = factory.staff()
    login_as(user)
    return user


def test_create_cycle_window_entered_in_its_zone_stored_utc(client, staff):
    response = client.post("/admin/cycles/new", data=FORM)
    assert response.status_code == 303
    cycle = db.session.scalars(select(Cycle)).one()
    assert cycle.status == CycleStatus.DRAFT
    assert cycle.opens_at == datetime(2030, 10, 1, 1, 0, tzinfo=UTC)  # KL is UTC+8
    assert cycle.closes_at == datetime(2030, 12, 15, 9, 0, tzinfo=UTC)
    assert [(s.code, s.name) for s in cycle.specialties] == [
        ("cardiology", "Cardiology"), ("radiology", "Radiology")]
    assert (cycle.max_submissions_per_institution, cycle.max_submissions_per_country) == (5, None)
    assert (cycle.min_experience_years, cycle.max_experience_years, cycle.max_age) == (2, 5, 45)
    assert cycle.endorsement_required and cycle.english_evidence_required
    page = client.get(f"/admin/cycles/{cycle.id}").get_data(as_text=True)
    assert 'value="2030-12-15T17:00"' in page  # shown again as entered
    assert "Japan: " in page


def test_invalid_window_and_ranges_are_named(client, staff):
    bad = dict(FORM, closes_local="2030-09-01T09:00", max_experience_years="1",
               specialties="Bad Code: x")
    response = client.post("/admin/cycles/new", data=bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The deadline must be after the opening." in html
    assert "Must not be below the minimum." in html
    assert "Specialty line" in html
    assert db.session.scalars(select(Cycle)).first() is None


def test_requirements_editor_publish_and_copy(client, staff):
    client.post("/admin/cycles/new", data=FORM)
    cycle = db.session.scalars(select(Cycle)).one()
    refused = client.post(f"/admin/cycles/{cycle.id}/publish", follow_redirects=True)
    assert "before publishing" in refused.get_data(as_text=True)
    bad = client.post(f"/admin/cycles/{cycle.id}/requirements",
                      data=dict(PASSPORT, validity_param=""))
    assert bad.status_code == 422 and "This rule needs a number." in bad.get_data(as_text=True)
    assert client.post(f"/admin/cycles/{cycle.id}/requirements",
                       data=PASSPORT).status_code == 303
    assert client.post(f"/admin/cycles/{cycle.id}/requirements",
                       data=dict(PASSPORT, label="CV", code="cv", accepted_types=["pdf"],
                                 validity_rule="none", sensitivity="normal",
                                 required="")).status_code == 303
    reqs = db.session.scalars(select(DocumentRequirement).order_by(
        DocumentRequirement.id)).all()
    passport, cv = reqs
    assert (passport.accepted_types, passport.max_size_mb, passport.validity_param,
            passport.sensitivity, passport.required) == (["pdf", "jpeg"], 8, 6, "sensitive", True)
    assert cv.required is False and cv.validity_param is None
    edited = client.post(f"/admin/cycles/{cycle.id}/requirements/{cv.id}",
                         data=dict(PASSPORT, code="cv", label="Curriculum vitae",
                                   accepted_types=["pdf"], validity_rule="none",
                                   sensitivity="normal"))
    assert edited.status_code == 303
    assert client.post(f"/admin/cycles/{cycle.id}/publish").status_code == 303
    db.session.expire_all()
    assert db.session.get(Cycle, cycle.id).status == CycleStatus.PUBLISHED

    copied = client.post(f"/admin/cycles/{cycle.id}/copy", data={"name": "FY2032"})
    assert copied.status_code == 303
    new = db.session.scalars(select(Cycle).where(Cycle.name == "FY2032")).one()
    assert new.status == CycleStatus.DRAFT and new.copied_from_id == cycle.id
    assert new.opens_at == datetime(2031, 10, 1, 1, 0, tzinfo=UTC)
    assert new.training_ends_on == date(2032, 8, 29)
    assert [(r.code, r.label, r.validity_param) for r in new.requirements] == [
        ("passport", "Passport copy", 6), ("cv", "Curriculum vitae", None)]
    assert [s.code for s in new.specialties] == ["cardiology", "radiology"]
    deleted = client.post(f"/admin/cycles/{new.id}/requirements/"
                          f"{new.requirements[0].id}/delete")
    assert deleted.status_code == 303
    db.session.expire_all()
    assert len(db.session.get(Cycle, new.id).requirements) == 1


def test_only_staff_manage_cycles(client, factory, login_as):
    login_as(factory.nominator())
    assert client.get("/admin/cycles").status_code == 403
    assert client.post("/admin/cycles/new", data=FORM).status_code == 403
    assert db.session.scalars(select(Cycle)).first() is None


def test_what_nominations_use_stays_and_a_refusal_changes_nothing(client, staff, factory):
    """Cycles ask nominations (a higher area) through hooks: a chosen specialty and a
    document with files stay, and the refused form saves none of its other changes."""
    cycle = make_cycle(name="FY2088")
    make_nomination(cycle, factory.institution(), documents=("cv",))  # chose cardiology
    form = dict(FORM, name="FY2089", specialties="radiology: Radiology")
    response = client.post(f"/admin/cycles/{cycle.id}", data=form)
    assert response.status_code == 422
    assert "Specialty cardiology is chosen by nominations" in response.get_data(as_text=True)
    db.session.expire_all()
    kept = db.session.get(Cycle, cycle.id)
    assert kept.name == "FY2088"
    assert [s.code for s in kept.specialties] == ["cardiology", "radiology"]

    cv = next(r for r in kept.requirements if r.code == "cv")
    refused = client.post(f"/admin/cycles/{cycle.id}/requirements/{cv.id}/delete",
                          follow_redirects=True)
    assert "Nominations have uploaded this document" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert "cv" in [r.code for r in db.session.get(Cycle, cycle.id).requirements]
    listed = client.get("/admin/cycles").get_data(as_text=True)
    row = re.search(r"FY2088</a></td>(.*?)</tr>", listed, re.S)
    assert row and re.findall(r"<td>(.*?)</td>", row[1])[-1] == "1"  # its nominations


def test_new_cycles_are_entered_in_the_program_zone(app, client, staff, monkeypatch):
    monkeypatch.setitem(app.config, "PROGRAM_TIMEZONE", "Asia/Manila")
    page = client.get("/admin/cycles/new").get_data(as_text=True)
    assert '<option selected value="Asia/Manila">' in page
