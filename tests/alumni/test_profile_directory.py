"""The alumnus' own profile, the dashboard section and the directory's privacy."""

from __future__ import annotations

from datetime import date

from portal.alumni.models import Alumnus
from portal.extensions import db
from tests.alumni import factories
from tests.events import factories as event_factories

PROFILE = {"position": "Head of radiology", "institution_now": "Cho Ray Hospital",
           "specialty": "Radiology", "city": "Ho Chi Minh City", "country": "VN",
           "timezone": "Asia/Ho_Chi_Minh", "language": "en", "contact_by_email": "y",
           "directory_visible": "y"}


def test_alumnus_keeps_their_own_profile(client, factory, login_as) -> None:
    user = factory.alumnus()
    mine = factories.alumnus(user_id=user.id, family_name="Tran", position="", city="")
    login_as(user)
    page = client.get("/alumni/profile").get_data(as_text=True)
    assert "Tran" in page and "complete" in page
    response = client.post("/alumni/profile", data=PROFILE)
    assert response.status_code == 303
    db.session.expire_all()
    mine = db.session.get(Alumnus, mine.id)
    assert (mine.position, mine.directory_visible) == ("Head of radiology", True)
    # A new specialty and country wait for staff (issue 12, point 9: they decide events).
    assert (mine.specialty, mine.country) == ("cardiology", "TH")
    assert mine.requested_changes == {"specialty": "radiology", "country": "VN"}
    assert mine.directory_show_email is False  # a separate opt-in
    assert mine.family_name == "Tran"  # not a profile field
    assert user.timezone == "Asia/Ho_Chi_Minh"  # the account follows the profile
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Your profile is 100% complete." in dashboard
    assert "You are listed in the alumni directory." in dashboard


def test_alumni_cannot_edit_other_records(client, factory, login_as) -> None:
    user = factory.alumnus()
    mine = factories.alumnus(user_id=user.id, city="Hanoi")
    other = factories.alumnus(user_id=factory.alumnus().id, city="Bangkok", position="Dean")
    login_as(user)
    # The profile form edits the signed-in person's record whatever is posted.
    client.post("/alumni/profile", data={**PROFILE, "id": other.id, "user_id": other.user_id})
    assert client.post(f"/admin/alumni/{other.id}", data={"family_name": "X"}).status_code \
        == 403
    assert client.get(f"/admin/alumni/{other.id}").status_code == 403
    db.session.expire_all()
    other = db.session.get(Alumnus, other.id)
    assert (other.city, other.position, other.family_name.startswith("Family")) == (
        "Bangkok", "Dean", True)
    assert db.session.get(Alumnus, mine.id).city == "Ho Chi Minh City"


def test_account_without_a_record(client, factory, login_as) -> None:
    login_as(factory.alumnus())
    page = client.get("/alumni/profile")
    assert page.status_code == 200
    assert "not linked to an alumni record yet" in page.get_data(as_text=True)
    assert "not linked to an alumni record yet" in client.get("/dashboard").get_data(
        as_text=True)


def test_directory_shows_only_opted_in_people_and_what_they_chose(client, factory,
                                                                  login_as) -> None:
    factories.alumnus(family_name="Listed", email="listed@example.org", directory_visible=True,
                      directory_show_email=True, country="TH", date_of_birth=date(1971, 2, 3),
                      position="Cardiologist")
    factories.alumnus(family_name="Quiet", email="quiet@example.org", directory_visible=True,
                      country="VN", date_of_birth=date(1972, 3, 4))
    factories.alumnus(family_name="Hidden", email="hidden@example.org", country="MY",
                      directory_visible=False)
    # Show-e-mail without being listed shows nothing at all.
    factories.alumnus(family_name="Unlisted", email="unlisted@example.org",
                      directory_visible=False, directory_show_email=True)
    login_as(factory.alumnus())
    page = client.get("/alumni/directory").get_data(as_text=True)
    assert "Listed" in page and "listed@example.org" in page and "Cardiologist" in page
    assert "Quiet" in page and "quiet@example.org" not in page
    for secret in ("Hidden", "hidden@example.org", "Unlisted", "unlisted@example.org",
                   "1971", "1972-03-04", "Malaysia"):
        assert secret not in page
    # Searching must not reveal hidden addresses either.
    found = client.get("/alumni/directory?q=quiet@", headers={"HX-Request": "true"})
    assert "Quiet" not in found.get_data(as_text=True)
    filtered = client.get("/alumni/directory?country=VN").get_data(as_text=True)
    assert "Quiet" in filtered and "Listed</h2>" not in filtered
    login_as(factory.staff())
    staff_page = client.get("/alumni/directory").get_data(as_text=True)
    assert "Quiet" in staff_page and "Hidden" not in staff_page



def test_a_new_country_opens_events_only_once_staff_confirm_it(client, factory,
                                                                login_as) -> None:
    """Issue 12, point 9: eligibility comes from the record staff keep; the alumnus asks."""
    user = factory.alumnus()
    mine = factories.alumnus(user_id=user.id, country="VN", specialty="cardiology")
    event = event_factories.event(title="Kuala Lumpur workshop", eligible_countries=["MY"])
    login_as(user)
    assert client.get(f"/events/{event.id}").status_code == 404
    response = client.post("/alumni/profile", data={**PROFILE, "country": "MY",
                                                    "specialty": "cardiology"})
    assert response.status_code == 303
    page = client.get("/alumni/profile").get_data(as_text=True)
    assert "Waiting for program staff to confirm" in page and "Malaysia" in page
    db.session.expire_all()
    record = db.session.get(Alumnus, mine.id)
    assert (record.country, record.requested_changes) == ("VN", {"country": "MY"})
    # Still the record's country: the Malaysian event stays closed to them.
    assert client.get(f"/events/{event.id}").status_code == 404
    assert client.post(f"/events/{event.id}/register").status_code == 404
    assert "Kuala Lumpur workshop" not in client.get("/events").get_data(as_text=True)
    # Saving the profile again keeps the request (the form shows what was asked).
    form = client.get("/alumni/profile").get_data(as_text=True)
    assert '<option selected value="MY">' in form or 'value="MY" selected' in form

    staff = factory.staff()
    login_as(staff)
    shown = client.get(f"/admin/alumni/{mine.id}").get_data(as_text=True)
    assert "The alumnus asks to change" in shown
    assert "1 record has a change of country or specialty to confirm." in client.get(
        "/admin/alumni").get_data(as_text=True)
    assert client.post(f"/admin/alumni/{mine.id}/changes",
                       data={"decision": "confirm"}).status_code == 303
    db.session.expire_all()
    record = db.session.get(Alumnus, mine.id)
    assert (record.country, record.requested_changes) == ("MY", {})
    assert client.post(f"/admin/alumni/{mine.id}/changes",
                       data={"decision": "confirm"}).status_code == 303  # nothing left: said
    login_as(user)
    assert client.get(f"/events/{event.id}").status_code == 200


def test_staff_may_decline_a_requested_change(client, factory, login_as) -> None:
    user = factory.alumnus()
    mine = factories.alumnus(user_id=user.id, country="VN", specialty="cardiology")
    login_as(user)
    client.post("/alumni/profile", data={**PROFILE, "country": "VN",
                                         "specialty": "Radiology"})
    login_as(factory.staff())
    assert client.post(f"/admin/alumni/{mine.id}/changes",
                       data={"decision": "decline"}).status_code == 303
    db.session.expire_all()
    record = db.session.get(Alumnus, mine.id)
    assert (record.specialty, record.requested_changes) == ("cardiology", {})
