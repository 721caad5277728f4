"""Inviting alumni to claim an account: once per person, a few per minute, failures listed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role, User
from portal.alumni import invitations
from portal.alumni.models import AlumniInvitation, Alumnus, InvitationStatus
from portal.db import utcnow
from portal.extensions import db
from portal.notify.models import MailStatus, OutboxMessage
from tests.alumni import factories


@pytest.fixture
def two_per_minute(app, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setitem(app.config, "ALUMNI_INVITES_PER_MINUTE", 2)


def invitation_mails() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "invitation").order_by(OutboxMessage.id)))


def test_bulk_invitation_creates_accounts_and_mails_once_throttled(
        client, factory, login_as, two_per_minute) -> None:
    login_as(factory.staff())
    people = [factories.alumnus(country="TH", family_name=f"Person{i}") for i in range(5)]
    factories.alumnus(country="TH", email=None)
    claimed = factory.alumnus()
    factories.alumnus(country="TH", email=claimed.email, user_id=claimed.id)
    factories.alumnus(country="VN")  # outside the filter

    confirm = client.get("/admin/alumni/invite?country=TH")
    assert "7 records match" in confirm.get_data(as_text=True)
    response = client.post("/admin/alumni/invite?country=TH", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "5 invitations queued; they go out at 2 per minute." in page
    assert "1 without e-mail, 1 with an account already" in page
    # The first minute's batch went out right after the request; the rest wait.
    assert len(invitation_mails()) == 2
    now = utcnow()
    assert invitations.send_due(now) == "0 sent, 0 skipped, 0 failed"
    assert invitations.send_due(now + timedelta(minutes=1)).startswith("2 sent")
    assert invitations.send_due(now + timedelta(minutes=2)).startswith("1 sent")
    mails = invitation_mails()
    assert sorted(m.to_addr for m in mails) == sorted(p.email for p in people)
    db.session.expire_all()
    for person in people:
        record = db.session.get(Alumnus, person.id)
        user = db.session.get(User, record.user_id)
        assert user.email == person.email and user.has_role(Role.ALUMNUS)
        assert user.password_hash is None  # set through the link in the mail

    # Asking again sends nobody a second mail.
    again = client.post("/admin/alumni/invite?country=TH", follow_redirects=True)
    assert "5 invited recently or queued" in again.get_data(as_text=True)
    invitations.send_due(now + timedelta(minutes=10))
    assert len(invitation_mails()) == 5


def test_cooldown_holds_even_for_an_invitation_queued_twice(app_ctx, factory) -> None:
    staff = factory.staff()
    person = factories.alumnus(invited_at=utcnow() - timedelta(days=1))
    db.session.add(AlumniInvitation(alumnus_id=person.id, email=person.email,
                                    requested_by_id=staff.id))
    db.session.commit()
    assert invitations.send_due().startswith("0 sent, 1 skipped")
    assert invitation_mails() == []
    row = db.session.scalars(select(AlumniInvitation)).one()
    assert row.status == InvitationStatus.SKIPPED and "cool-down" in row.error
    # After the cool-down the person may be invited again.
    later = utcnow() + timedelta(days=invitations.DEFAULT_COOLDOWN_DAYS + 1)
    result = invitations.request_invitations(select(Alumnus), staff, now=later)
    db.session.commit()
    assert result.queued == 1
    assert invitations.send_due(later).startswith("1 sent")


def test_failed_invitation_mails_are_listed(client, factory, login_as) -> None:
    login_as(factory.staff())
    person = factories.alumnus(family_name="Bounced", email="nobody@nowhere.example.org")
    client.post("/admin/alumni/invite")
    mail = invitation_mails()[0]
    mail.status = MailStatus.FAILED
    mail.last_error = "550 5.1.1 mailbox unavailable"
    db.session.commit()
    page = client.get("/admin/alumni/invitations").get_data(as_text=True)
    assert "Bounced" in page and "nobody@nowhere.example.org" in page
    assert "550 5.1.1 mailbox unavailable" in page
    assert f"/admin/alumni/{person.id}" in page


def test_address_of_an_account_linked_elsewhere_is_not_reused(app_ctx, factory) -> None:
    staff = factory.staff()
    user = factory.alumnus()
    factories.alumnus(email=user.email, user_id=user.id)
    twin = factories.alumnus(email=user.email)  # a duplicate not merged yet
    invitations.request_invitations(select(Alumnus).where(Alumnus.id == twin.id), staff)
    db.session.commit()
    invitations.send_due()
    db.session.expire_all()
    assert db.session.get(Alumnus, twin.id).user_id is None
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_an_unrelated_account_with_the_address_waits_for_staff(client, factory,
                                                               login_as) -> None:
    """Issue 12, point 15: a record whose address an existing account uses (a reviewer
    here) does not silently give that account the record and the alumnus role."""
    reviewer = factory.reviewer(email="same.address@example.org", name="Dr. Reviewer")
    record = factories.alumnus(email="same.address@example.org", family_name="Namesake")
    staff = factory.staff()
    login_as(staff)
    client.post("/admin/alumni/invite")
    invitations.send_due(utcnow() + timedelta(minutes=5))
    db.session.expire_all()
    assert not db.session.get(User, reviewer.id).has_role(Role.ALUMNUS)
    assert db.session.get(Alumnus, record.id).user_id is None
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    row = db.session.scalars(select(AlumniInvitation)).one()
    assert row.status == InvitationStatus.HELD

    listing = client.get("/admin/alumni/invitations").get_data(as_text=True)
    assert "Addresses that already have an account" in listing and "Namesake" in listing
    page = client.get(f"/admin/alumni/{record.id}").get_data(as_text=True)
    assert "An account uses this record" in page and "Dr. Reviewer" in page
    # Asking again queues nothing new while staff have not decided.
    again = client.post("/admin/alumni/invite", follow_redirects=True)
    assert "1 invited recently or queued" in again.get_data(as_text=True)

    assert client.post(f"/admin/alumni/{record.id}/account").status_code == 303
    db.session.expire_all()
    assert db.session.get(Alumnus, record.id).user_id == reviewer.id
    assert db.session.get(User, reviewer.id).roles == {Role.REVIEWER, Role.ALUMNUS}
    [mail] = list(db.session.scalars(select(OutboxMessage)))
    assert mail.to_addr == reviewer.email and mail.template == "roles_granted"
    assert db.session.scalars(select(AlumniInvitation)).one().status == InvitationStatus.SENT
    assert client.post(f"/admin/alumni/{record.id}/account").status_code == 303  # decided
