"""Institutions: staff create and edit them (only staff change the head's e-mail, where
endorsements go); new institutions ask for access publicly and staff decide."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.institutions.models import Institution, InstitutionStatus
from tests.conftest import login
from tests.foundation.helpers import audit, flashes, fresh, link_path, outbox

FIELDS = {"name": "Bangkok Children's Hospital", "country": "TH", "city": "Bangkok",
          "timezone": "Asia/Bangkok", "kind": "hospital", "head_name": "Dr. Somsak",
          "head_email": "Director@Children-BKK.example.org"}
REQUEST = {**FIELDS, "contact_name": "Ms. Ploy", "contact_position": "Training officer",
           "contact_email": "Ploy@Children-BKK.example.org", "message": "Two nurses."}


def _institution(name: str) -> Institution:
    db.session.expire_all()
    return db.session.scalar(select(Institution).where(Institution.name == name))


def test_staff_create_and_edit(app_ctx, factory) -> None:  # noqa: ANN001
    staff = factory.staff()
    client = app_ctx.test_client()
    login(client, staff)
    response = client.post("/admin/institutions/new", data=FIELDS)
    assert response.status_code == 303
    institution = _institution(FIELDS["name"])
    assert institution.status == InstitutionStatus.ACTIVE
    assert institution.head_email == "director@children-bkk.example.org"
    assert response.headers["Location"] == f"/admin/institutions/{institution.id}"

    response = client.post(f"/admin/institutions/{institution.id}",
                           data={**FIELDS, "head_email": "new.director@example.org"})
    assert response.status_code == 303
    assert fresh(Institution, institution.id).head_email == "new.director@example.org"
    [event] = audit("institution.changed", object_id=str(institution.id))
    assert event.details == {"head_email": "new.director@example.org"}

    listing = client.get("/admin/institutions", query_string={"q": "bangkok"})
    assert FIELDS["name"].replace("'", "&#39;") in listing.get_data(as_text=True)


def test_invalid_institution_is_shown_again_with_errors(client, factory) -> None:  # noqa: ANN001
    login(client, factory.staff())
    response = client.post("/admin/institutions/new",
                           data={**FIELDS, "timezone": "Mars/Olympus", "country": "XX"})
    assert response.status_code == 422
    assert "Choose a time zone from the list." in response.get_data(as_text=True)
    assert _institution(FIELDS["name"]) is None


def test_nominators_cannot_change_the_head_email(app_ctx, factory) -> None:  # noqa: ANN001
    institution = factory.institution(head_email="head@example.org")
    nominator = factory.nominator(institution)
    client = app_ctx.test_client()
    login(client, nominator)
    assert client.get(f"/admin/institutions/{institution.id}").status_code == 403
    response = client.post(f"/admin/institutions/{institution.id}",
                           data={**FIELDS, "head_email": "accomplice@example.org"})
    assert response.status_code == 403
    assert fresh(Institution, institution.id).head_email == "head@example.org"


def test_request_access_then_approve(app_ctx, factory) -> None:  # noqa: ANN001
    public = app_ctx.test_client()
    response = public.post("/request-access", data=REQUEST)
    assert response.status_code == 303 and response.headers["Location"] == "/request-access/sent"
    institution = _institution(FIELDS["name"])
    assert institution.status == InstitutionStatus.REQUESTED
    [received] = outbox("ploy@children-bkk.example.org")
    assert "We received a request for access" in received.body_text

    staff_client = app_ctx.test_client()
    login(staff_client, factory.staff())
    dashboard = staff_client.get("/dashboard").get_data(as_text=True)
    assert "1 institution asks for access" in dashboard
    page = staff_client.get(f"/admin/institutions/{institution.id}").get_data(as_text=True)
    assert "Ms. Ploy" in page and "Two nurses." in page

    response = staff_client.post(f"/admin/institutions/{institution.id}/approve",
                                 follow_redirects=True)
    assert "was invited as nominator" in " ".join(flashes(response))
    assert fresh(Institution, institution.id).status == InstitutionStatus.ACTIVE
    requester = db.session.scalar(select(User).where(
        User.email == "ploy@children-bkk.example.org"))
    assert requester.institution_id == institution.id and requester.roles == {Role.NOMINATOR}

    # The requester follows the invitation and lands in the institution's dashboard.
    invitation = outbox("ploy@children-bkk.example.org")[-1]
    assert invitation.template == "invitation"
    client = app_ctx.test_client()
    client.post(link_path(invitation), data={"password": "password of ploy",
                                             "confirm": "password of ploy"})
    assert FIELDS["name"].replace("'", "&#39;") in client.get("/dashboard").get_data(
        as_text=True)

    again = staff_client.post(f"/admin/institutions/{institution.id}/approve",
                              follow_redirects=True)
    assert "This request was already decided." in flashes(again)


def test_request_access_then_decline(app_ctx, factory) -> None:  # noqa: ANN001
    app_ctx.test_client().post("/request-access", data=REQUEST)
    institution = _institution(FIELDS["name"])
    client = app_ctx.test_client()
    login(client, factory.staff())

    response = client.post(f"/admin/institutions/{institution.id}/decline", data={})
    assert "Give a reason for declining." in flashes(client.get(response.headers["Location"]))
    assert fresh(Institution, institution.id).status == InstitutionStatus.REQUESTED

    client.post(f"/admin/institutions/{institution.id}/decline",
                data={"reason": "Only public medical organizations can nominate."})
    assert fresh(Institution, institution.id).status == InstitutionStatus.DECLINED
    declined = outbox("ploy@children-bkk.example.org")[-1]
    assert declined.template == "access_request_declined"
    assert "Only public medical organizations can nominate." in declined.body_text
    assert db.session.scalar(select(User).where(
        User.email == "ploy@children-bkk.example.org")) is None


def test_request_access_form_errors(client) -> None:  # noqa: ANN001
    response = client.post("/request-access", data={**REQUEST, "contact_email": "not an email"})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert _institution(FIELDS["name"]) is None
