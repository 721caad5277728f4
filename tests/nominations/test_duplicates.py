"""Possible duplicates: the same person twice in a cycle, and former participants."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.alumni.models import Alumnus
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.models import Nomination, NominationState
from tests.nominations.factories import make_cycle, make_nomination

HTMX = {"HX-Request": "true"}


def test_same_passport_in_another_institution_is_flagged_without_naming_it(
        client, nominator, factory, cycle):
    other = factory.institution(name="Rival Hospital", country="MY")
    theirs = make_nomination(cycle, other, family_name="Rahman", passport_number="K9988776")
    mine = make_nomination(cycle, db.session.get(Institution, nominator.institution_id),
                           complete=False, confirmed=False)
    response = client.post(f"/nominations/{mine.id}/sections/identity", headers=HTMX,
                           data={"identity-family_name": "Rahman",
                                 "identity-passport_number": "k 998 8776"})
    assert response.status_code == 200
    page = client.get(f"/nominations/{mine.id}").get_data(as_text=True)
    assert "may also be nominated by another institution" in page
    assert "Rival Hospital" not in page and theirs.reference not in page
    db.session.expire_all()
    flags = db.session.get(Nomination, theirs.id).duplicate_flags
    assert [(f["kind"], f["match"], f["nomination_id"]) for f in flags] == [
        ("same_cycle", "passport", mine.id)]  # staff see it on both sides


def test_former_participants_found_in_earlier_cycles_and_alumni(client, nominator, cycle):
    institution = db.session.get(Institution, nominator.institution_id)
    past = make_cycle(opens_in=timedelta(days=-800), closes_in=timedelta(days=-760),
                      status="closed")
    make_nomination(past, institution, state=NominationState.ACCEPTED, family_name="Lim",
                    given_names="Wei Jie", date_of_birth=date(1989, 4, 2),
                    passport_number="OLD12345")
    db.session.add(Alumnus(family_name="Santos", given_names="Maria", cycle_year=2015,
                           date_of_birth=date(1980, 1, 9), specialty="radiology"))
    db.session.commit()
    draft = make_nomination(cycle, institution, complete=False, confirmed=False)
    url = f"/nominations/{draft.id}/sections/identity"
    client.post(url, headers=HTMX, data={"identity-family_name": "LIM",
                                         "identity-given_names": "Wei-Jie",
                                         "identity-date_of_birth": "1989-04-02"})
    page = client.get(f"/nominations/{draft.id}").get_data(as_text=True)
    assert f"trained with the program in {past.name}" in page
    assert "lower priority" in page  # the cycle's rule for prior participants
    client.post(url, headers=HTMX, data={"identity-family_name": "Santos",
                                         "identity-given_names": "María",
                                         "identity-date_of_birth": "1980-01-09"})
    page = client.get(f"/nominations/{draft.id}").get_data(as_text=True)
    assert "found in the alumni records (2015)" in page
    flags = db.session.scalars(select(Nomination.duplicate_flags).where(
        Nomination.id == draft.id)).one()
    assert [f["kind"] for f in flags] == ["alumnus"]
