"""Possible duplicates: the same person twice in a cycle, and former participants."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from portal.alumni.models import Alumnus
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.models import Nomination, NominationState
from tests.conftest import login
from tests.nominations.factories import make_cycle, make_nomination

HTMX = {"HX-Request": "true"}


def test_same_passport_in_another_institution_is_shown_to_staff_only(
        client, nominator, factory, cycle):
    # Issue 12, point 8 (changed behaviour): the nominator used to read "may also be
    # nominated by another institution"; matches outside their institution are staff's.
    other = factory.institution(name="Rival Hospital", country="MY")
    theirs = make_nomination(cycle, other, family_name="Rahman", passport_number="K9988776")
    mine = make_nomination(cycle, db.session.get(Institution, nominator.institution_id),
                           complete=False, confirmed=False)
    response = client.post(f"/nominations/{mine.id}/sections/identity", headers=HTMX,
                           data={"identity-family_name": "Rahman",
                                 "identity-passport_number": "k 998 8776"})
    assert response.status_code == 200
    page = client.get(f"/nominations/{mine.id}").get_data(as_text=True)
    assert "another institution" not in page and "Possible duplicates" not in page
    assert "Rival Hospital" not in page and theirs.reference not in page
    db.session.expire_all()
    flags = db.session.get(Nomination, theirs.id).duplicate_flags
    assert [(f["kind"], f["match"], f["nomination_id"]) for f in flags] == [
        ("same_cycle", "passport", mine.id)]  # staff see it on both sides
    client.post("/logout")
    login(client, factory.staff())
    staff_page = client.get(f"/staff/nominations/{mine.id}").get_data(as_text=True)
    assert "Also nominated in this cycle" in staff_page and theirs.reference in staff_page
    assert "Rival Hospital" in staff_page and "not shown to the institution" in staff_page


def test_former_participants_found_in_earlier_cycles_and_alumni(client, factory, nominator,
                                                                cycle):
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
    # The institution's own earlier nomination: it sees it, and the cycle's rule applies.
    client.post(url, headers=HTMX, data={"identity-family_name": "LIM",
                                         "identity-given_names": "Wei-Jie",
                                         "identity-date_of_birth": "1989-04-02"})
    page = client.get(f"/nominations/{draft.id}").get_data(as_text=True)
    assert f"trained with the program in {past.name}" in page
    assert "lower priority" in page  # the cycle's rule for prior participants
    # The alumni records (hidden from the directory) are staff's: issue 12, point 8
    # changed what the nominator reads here (it used to say "found in the alumni records").
    client.post(url, headers=HTMX, data={"identity-family_name": "Santos",
                                         "identity-given_names": "María",
                                         "identity-date_of_birth": "1980-01-09"})
    page = client.get(f"/nominations/{draft.id}").get_data(as_text=True)
    assert "alumni records" not in page and "2015" not in page
    assert "lower priority" not in page
    flags = db.session.scalars(select(Nomination.duplicate_flags).where(
        Nomination.id == draft.id)).one()
    assert [f["kind"] for f in flags] == ["alumnus"]
    client.post("/logout")
    login(client, factory.staff())
    staff_page = client.get(f"/staff/nominations/{draft.id}").get_data(as_text=True)
    assert "Matches a former trainee" in staff_page and "(2015, radiology)" in staff_page


# -- issue 12, point 8: nothing a nominator sees depends on matches outside their
# institution ------------------------------------------------------------------------

_VOLATILE = [
    re.compile(r'name="csrf_token" value="[^"]*"'),
    re.compile(r'"X-CSRFToken": ?"[^"]*"'),
    re.compile(r"<time[^>]*>[^<]*</time>"),
]


def _same_apart_from(text: str, nomination: Nomination, *typed: str) -> str:
    """The page with what differs between two drafts by construction (their ids,
    references, the values typed into them, tokens and times) taken out."""
    for pattern in _VOLATILE:
        text = pattern.sub("", text)
    text = re.sub(rf"/nominations/{nomination.id}(?=[/\"?#])", "/nominations/ID", text)
    for value in (nomination.reference, *typed):
        text = text.replace(value, "VALUE")
    return text


def _pages(client, nomination: Nomination) -> list[tuple[int, str]]:  # noqa: ANN001
    return [(r.status_code, r.get_data(as_text=True)) for r in (
        client.get(f"/nominations/{nomination.id}"),
        client.get(f"/nominations/{nomination.id}/edit"),
        client.get(f"/nominations/{nomination.id}/panel", headers=HTMX),
    )]


def test_what_the_nominator_sees_does_not_depend_on_matches_elsewhere(
        client, nominator, factory, cycle):
    cycle.prior_participation = "not_allowed"  # a match would even block submission
    other = factory.institution(name="Rival Hospital", country="MY")
    make_nomination(cycle, other, family_name="Rahman", passport_number="K9988776")
    db.session.add(Alumnus(family_name="Santos", given_names="Maria", cycle_year=2015,
                           date_of_birth=date(1980, 1, 9), specialty="radiology"))
    db.session.commit()
    institution = db.session.get(Institution, nominator.institution_id)
    matched, unmatched = (
        make_nomination(cycle, institution, confirmed=False, email="same@example.org")
        for _ in range(2))
    for section_data in (
        # Another institution's candidate, by passport number...
        lambda passport, name, born: {"identity-family_name": "Rahman",
                                      "identity-passport_number": passport},
        # ...and a hidden alumnus, by name and date of birth.
        lambda passport, name, born: {"identity-family_name": name,
                                      "identity-given_names": "Maria",
                                      "identity-date_of_birth": born},
    ):
        answers = []
        for nomination, passport, name, born in (
                (matched, "K9988776", "Santos", "1980-01-09"),
                (unmatched, "K1234567", "Sontas", "1980-01-08")):
            response = client.post(f"/nominations/{nomination.id}/sections/identity",
                                   headers=HTMX, data=section_data(passport, name, born))
            typed = (passport, name, born, born.replace("-", "/"))
            answers.append([(response.status_code,
                             _same_apart_from(response.get_data(as_text=True), nomination,
                                              *typed))]
                           + [(status, _same_apart_from(text, nomination, *typed))
                              for status, text in _pages(client, nomination)])
        db.session.expire_all()
        assert db.session.get(Nomination, matched.id).duplicate_flags  # staff have them
        assert answers[0] == answers[1]


def test_the_other_institutions_nominators_see_nothing_of_the_match(
        app, client, nominator, factory, cycle):
    other = factory.institution(name="Rival Hospital", country="MY")
    their_nominator = factory.nominator(other)
    theirs = make_nomination(cycle, other, family_name="Rahman", passport_number="K9988776",
                             confirmed=False)
    mine = make_nomination(cycle, db.session.get(Institution, nominator.institution_id),
                           complete=False, confirmed=False)
    before_changed = db.session.get(Nomination, theirs.id).updated_at
    them = app.test_client()
    login(them, their_nominator)
    before = [(status, _same_apart_from(text, theirs)) for status, text in _pages(them, theirs)]
    overview = _same_apart_from(them.get("/nominations").get_data(as_text=True), theirs)

    client.post(f"/nominations/{mine.id}/sections/identity", headers=HTMX,
                data={"identity-family_name": "Rahman",
                      "identity-passport_number": "K9988776"})
    db.session.expire_all()
    stored = db.session.get(Nomination, theirs.id)
    assert [f["nomination_id"] for f in stored.duplicate_flags] == [mine.id]  # for staff
    assert stored.updated_at == before_changed
    after = [(status, _same_apart_from(text, theirs)) for status, text in _pages(them, theirs)]
    assert after == before
    assert _same_apart_from(them.get("/nominations").get_data(as_text=True), theirs) \
        == overview
