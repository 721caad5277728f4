"""Staff: the list and its filters, manual records, merging, alumni from a cycle."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from portal.alumni import services
from portal.alumni.models import Alumnus
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.alumni import factories


def test_list_filters_by_country_specialty_year_account_and_search(client, factory,
                                                                   login_as) -> None:
    login_as(factory.staff())
    user = factory.alumnus()
    factories.alumnus(family_name="Srisuk", country="TH", cycle_year=2005, user_id=user.id)
    factories.alumnus(family_name="Nguyen", country="VN", cycle_year=2010,
                      specialty="radiology")
    factories.alumnus(family_name="Santos", country="PH", cycle_year=2010,
                      email="maria@clinic.example.org")

    def names(**args: str) -> set[str]:
        page = client.get("/admin/alumni", query_string=args).get_data(as_text=True)
        return {n for n in ("SRISUK", "NGUYEN", "SANTOS") if n in page}

    assert names() == {"SRISUK", "NGUYEN", "SANTOS"}
    assert names(country="VN") == {"NGUYEN"}
    assert names(specialty="Radiology") == {"NGUYEN"}
    assert names(year="2010") == {"NGUYEN", "SANTOS"}
    assert names(has_account="yes") == {"SRISUK"}
    assert names(has_account="no") == {"NGUYEN", "SANTOS"}
    assert names(q="clinic.example") == {"SANTOS"}
    partial = client.get("/admin/alumni?country=TH", headers={"HX-Request": "true"})
    assert "<html" not in partial.get_data(as_text=True)
    assert "SRISUK" in partial.get_data(as_text=True)


def test_staff_create_and_edit_a_record(client, factory, login_as) -> None:
    login_as(factory.staff())
    response = client.post("/admin/alumni/new", data={"family_name": "", "country": "TH"})
    assert response.status_code == 422
    response = client.post("/admin/alumni/new", data={
        "family_name": " Boonmee ", "given_names": "Suda", "email": "Suda@Example.org",
        "cycle_year": "1995", "specialty": "Clinical Laboratory", "country": "TH",
        "date_of_birth": "1965-04-03", "language": "en"})
    assert response.status_code == 303
    record = db.session.scalars(select(Alumnus)).one()
    assert (record.family_name, record.email, record.specialty, record.source) == (
        "Boonmee", "suda@example.org", "clinical_laboratory", "manual")
    response = client.post(f"/admin/alumni/{record.id}", data={
        "family_name": "Boonmee", "cycle_year": "1982", "country": "TH", "language": "en"})
    assert response.status_code == 422 and "1983" in response.get_data(as_text=True)


def test_merge_keeps_both_records_and_moves_the_account(client, factory, login_as) -> None:
    moved: list[tuple[int, int]] = []
    services.MERGE_HOOKS.append(lambda a, b: moved.append((a, b)))
    try:
        login_as(factory.staff())
        user = factory.alumnus()
        source = factories.alumnus(family_name="Aung", email="aung@old.example.org",
                                   user_id=user.id, city="Yangon", cycle_year=1999)
        target = factories.alumnus(family_name="Aung", email="aung@new.example.org",
                                   city="", cycle_year=1999, position="Surgeon")
        compare = client.get(f"/admin/alumni/{target.id}/merge?other_id={source.id}")
        assert compare.status_code == 200 and "aung@old.example.org" in compare.get_data(
            as_text=True)
        response = client.post(f"/admin/alumni/{target.id}/merge",
                               data={"other_id": source.id})
        assert response.status_code == 303
    finally:
        services.MERGE_HOOKS.pop()
    db.session.expire_all()
    source, target = db.session.get(Alumnus, source.id), db.session.get(Alumnus, target.id)
    assert source.merged_into_id == target.id  # still there, for its history
    assert source.email == "aung@old.example.org" and target.email == "aung@new.example.org"
    assert target.city == "Yangon" and target.position == "Surgeon"
    assert target.user_id == user.id and source.user_id is None
    assert services.alumnus_for_user(user).id == target.id
    assert moved == [(source.id, target.id)]
    page = client.get(f"/admin/alumni/{target.id}").get_data(as_text=True)
    assert f"#{source.id}" in page and "Records merged into this one" in page
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "alumni.merged")) == 1
    # Merged records leave the list unless asked for.
    listing = client.get("/admin/alumni").get_data(as_text=True)
    assert f"<td>{source.id}</td>" not in listing
    assert f"<td>{source.id}</td>" in client.get("/admin/alumni?merged=1").get_data(
        as_text=True)


def test_merge_refuses_two_accounts_and_itself(client, factory, login_as) -> None:
    login_as(factory.staff())
    a = factories.alumnus(user_id=factory.alumnus().id)
    b = factories.alumnus(user_id=factory.alumnus().id)
    response = client.post(f"/admin/alumni/{a.id}/merge", data={"other_id": b.id},
                           follow_redirects=True)
    assert "Both records have an account" in response.get_data(as_text=True)
    response = client.post(f"/admin/alumni/{a.id}/merge", data={"other_id": a.id},
                           follow_redirects=True)
    assert "cannot be merged into itself" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Alumnus, b.id).merged_into_id is None


def test_alumni_from_a_cycle_are_created_once(client, factory, login_as) -> None:
    login_as(factory.staff())
    cycle, nominations = factories.finished_cycle(factory, accepted=3, others=1)
    # A trainee already imported for the same year is linked, not duplicated.
    imported = factories.alumnus(family_name="Tran", email=nominations[0].email,
                                 cycle_year=cycle.training_starts_on.year, source="import")
    response = client.post("/admin/alumni/from-cycle", data={"cycle_id": cycle.id},
                           follow_redirects=True)
    assert "2 records created, 1 existing records linked, 0 done before" in \
        response.get_data(as_text=True)
    again = client.post("/admin/alumni/from-cycle", data={"cycle_id": cycle.id},
                        follow_redirects=True)
    assert "0 records created, 0 existing records linked, 3 done before" in \
        again.get_data(as_text=True)
    records = db.session.scalars(select(Alumnus).order_by(Alumnus.id)).all()
    assert len(records) == 3
    assert {r.nomination_id for r in records} == {n.id for n in nominations[:3]}
    created = [r for r in records if r.id != imported.id]
    assert {r.source for r in created} == {"cycle"}
    assert created[0].specialty == "cardiology" and created[0].country == "VN"
    assert created[0].institution_then.startswith("Hanoi Hospital")


def test_cycle_still_training_is_refused(client, factory, login_as) -> None:
    login_as(factory.staff())
    cycle, _ = factories.finished_cycle(factory, ends=date.today() + timedelta(days=30))
    response = client.post("/admin/alumni/from-cycle", data={"cycle_id": cycle.id},
                           follow_redirects=True)
    assert "become alumni after that" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Alumnus.id))) == 0
