"""The reviewer pool: people with the reviewer role, found or invited; specialties, load,
affiliation, languages; taking a member out ends their access to the cycle's dossiers."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.notify.models import OutboxMessage
from portal.review import policy
from portal.review.models import Conflict, PoolMember
from tests.factories import Factory
from tests.nominations.factories import make_cycle
from tests.review.factories import make_review_cycle


def test_staff_find_reviewers_and_add_them(client: FlaskClient, factory: Factory,
                                           login_as: Callable[..., object]) -> None:
    cycle = make_cycle()
    wanted = factory.reviewer(name="Dr Wanted Person")
    factory.alumnus(name="Dr Wanted Alumnus")  # no reviewer role: not offered
    login_as(factory.staff())
    found = client.get(f"/staff/review/{cycle.id}/pool?q=wanted",
                       headers={"HX-Request": "true"}).text
    assert "Dr Wanted Person" in found and "Dr Wanted Alumnus" not in found
    response = client.post(f"/staff/review/{cycle.id}/pool", data={"user_id": wanted.id})
    assert response.status_code == 303
    member = db.session.scalar(select(PoolMember).where(PoolMember.user_id == wanted.id))
    assert member is not None and member.active and member.languages == ["en"]
    assert "Dr Wanted Person" not in client.get(f"/staff/review/{cycle.id}/pool?q=wanted",
                                                headers={"HX-Request": "true"}).text
    again = client.post(f"/staff/review/{cycle.id}/pool", data={"user_id": wanted.id})
    assert "already in the pool" in client.get(again.headers["Location"]).text
    alumnus = db.session.scalar(select(User).where(User.name == "Dr Wanted Alumnus"))
    assert alumnus is not None
    refused = client.post(f"/staff/review/{cycle.id}/pool", data={"user_id": alumnus.id})
    assert "Only people with the reviewer role" in client.get(refused.headers["Location"]).text


def test_staff_invite_a_new_reviewer_into_the_pool(client: FlaskClient, factory: Factory,
                                                   login_as: Callable[..., object]) -> None:
    cycle = make_cycle()
    login_as(factory.staff())
    response = client.post(f"/staff/review/{cycle.id}/pool/invite", data={
        "name": "Prof. New Reviewer", "email": "New.Reviewer@univ.example.jp",
        "language": "ja"})
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "new.reviewer@univ.example.jp"))
    assert user is not None and user.has_role(Role.REVIEWER) and user.password_hash is None
    assert db.session.scalar(select(PoolMember).where(PoolMember.user_id == user.id))
    mail = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.to_addr == user.email, OutboxMessage.template == "invitation"))
    assert mail is not None and mail.language == "ja"
    bad = client.post(f"/staff/review/{cycle.id}/pool/invite",
                      data={"name": "X", "email": "not-an-address", "language": "en"})
    assert bad.status_code == 422


def test_staff_set_a_members_specialties_load_affiliation_and_languages(
        client: FlaskClient, factory: Factory, login_as: Callable[..., object]) -> None:
    rc = make_review_cycle(factory)
    member = rc.member(rc.outsider)
    login_as(rc.staff)
    url = f"/staff/review/{rc.cycle.id}/pool/{member.id}"
    response = client.post(url, data={"specialties": ["radiology", "cardiology"],
                                      "load_limit": "7", "institution_id": str(
                                          rc.institutions[1].id),
                                      "affiliation_name": "", "affiliation_country": "",
                                      "languages": "en, JA vi"})
    assert response.status_code == 303
    db.session.refresh(member)
    assert member.specialties == ["cardiology", "radiology"]  # the cycle's order
    assert (member.load_limit, member.institution_id, member.languages) == (
        7, rc.institutions[1].id, ["en", "ja", "vi"])
    # Their own institution is now a conflict, found at once.
    assert db.session.scalar(select(Conflict).where(
        Conflict.reviewer_id == rc.outsider.id, Conflict.reason_code == "own_institution",
        Conflict.institution_id == rc.institutions[1].id)) is not None
    bad = client.post(url, data={"languages": "english please", "load_limit": ""})
    assert bad.status_code == 422 and "Write languages as codes" in bad.text
    page = client.get(f"/staff/review/{rc.cycle.id}/pool").text
    assert "Vietnamese" in page and "Radiology" in page


def test_a_member_taken_out_opens_no_dossier_until_added_back(
        client: FlaskClient, factory: Factory, login_as: Callable[..., object]) -> None:
    rc = make_review_cycle(factory)
    reviewer = rc.reviewers[0]
    member = rc.member(reviewer)

    def visible() -> int:
        return len(db.session.execute(policy.assignments_visible_to(reviewer)).all())

    assert visible() == 3
    login_as(rc.staff)
    client.post(f"/staff/review/{rc.cycle.id}/pool/{member.id}/deactivate")
    db.session.expire_all()
    assert visible() == 0
    client.post(f"/staff/review/{rc.cycle.id}/pool/{member.id}/reactivate")
    db.session.expire_all()
    assert visible() == 3
