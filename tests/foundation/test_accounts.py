"""People: staff invite, nominators invite colleagues, deactivation, roles."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.models import Role, User
from portal.extensions import db
from tests.conftest import TEST_PASSWORD, login
from tests.foundation.helpers import audit, flashes, fresh, link_path, outbox

NEW = "chosen password 2026"


def _user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_staff_invite_leads_to_a_signed_in_account(app_ctx, factory) -> None:  # noqa: ANN001
    staff = factory.staff(name="Keiko Staff")
    client = app_ctx.test_client()
    login(client, staff)
    response = client.post("/admin/people/invite", data={
        "name": "Dr. New Reviewer", "email": "New.Reviewer@Example.org",
        "roles": ["reviewer", "alumnus"], "institution_id": "0", "language": "en"})
    assert response.status_code == 303
    assert "Invitation sent to" in " ".join(flashes(client.get(response.headers["Location"])))

    [mail] = outbox("new.reviewer@example.org")
    assert "Keiko Staff invited you" in mail.body_text
    invitee = app_ctx.test_client()
    page = invitee.get(link_path(mail))
    assert page.status_code == 200 and "new.reviewer@example.org" in page.get_data(as_text=True)
    response = invitee.post(link_path(mail), data={"password": NEW, "confirm": NEW})
    assert response.status_code == 303
    dashboard = invitee.get("/dashboard").get_data(as_text=True)
    assert "Dr. New Reviewer" in dashboard
    assert "Selection committee" in dashboard and "Alumni" in dashboard
    user = _user("new.reviewer@example.org")
    assert user.roles == {Role.REVIEWER, Role.ALUMNUS}
    assert audit("account.invited", object_id=str(user.id))[0].actor_id == staff.id


def test_invitation_needs_a_valid_form(client, factory) -> None:  # noqa: ANN001
    login(client, factory.staff())
    response = client.post("/admin/people/invite", data={
        "name": "Nominator Without Institution", "email": "x@example.org",
        "roles": "nominator", "institution_id": "0", "language": "en"})
    assert response.status_code == 422
    assert "A nominator must belong to an institution." in response.get_data(as_text=True)
    assert _user("x@example.org") is None and outbox() == []


def test_nominator_invites_colleagues_of_own_institution_only(app_ctx, factory) -> None:  # noqa: ANN001
    mine, theirs = factory.institution(name="Mine"), factory.institution(name="Theirs")
    nominator = factory.nominator(mine)
    other = factory.nominator(theirs, email="other.nominator@example.org")
    client = app_ctx.test_client()
    login(client, nominator)

    # The institution is always the inviter's, whatever the form says.
    response = client.post("/institution/people", data={
        "name": "Colleague", "email": "colleague@example.org", "language": "en",
        "institution_id": str(theirs.id)})
    assert response.status_code == 303
    colleague = _user("colleague@example.org")
    assert colleague.institution_id == mine.id and colleague.roles == {Role.NOMINATOR}
    assert outbox("colleague@example.org")

    # A nominator of another institution cannot be pulled over (the answer says nothing
    # of it: issue 12, point 10, tests below).
    response = client.post("/institution/people", data={
        "name": "Other", "email": other.email, "language": "en"})
    assert response.status_code == 303
    assert fresh(User, other.id).institution_id == theirs.id
    assert not outbox(other.email)

    page = client.get("/institution/people").get_data(as_text=True)
    assert "colleague@example.org" in page
    assert client.get("/admin/people/invite").status_code == 403


def test_staff_deactivate_and_reactivate(app_ctx, factory) -> None:  # noqa: ANN001
    staff = factory.staff()
    leaver = factory.nominator(name="Leaving Nominator")
    institution_id = leaver.institution_id
    client = app_ctx.test_client()
    login(client, staff)

    response = client.post(f"/admin/people/{leaver.id}/deactivate", follow_redirects=True)
    assert "can no longer sign in" in " ".join(flashes(response))
    assert "deactivated" in response.get_data(as_text=True)
    assert app_ctx.test_client().post("/login", data={
        "email": leaver.email, "password": TEST_PASSWORD}).status_code == 401
    assert fresh(User, leaver.id).institution_id == institution_id  # records stay theirs
    assert audit("account.deactivated", object_id=str(leaver.id))

    # Their replacement joins the same institution.
    client.post("/admin/people/invite", data={
        "name": "Successor", "email": "successor@example.org", "roles": "nominator",
        "institution_id": str(institution_id), "language": "en"})
    assert _user("successor@example.org").institution_id == institution_id

    client.post(f"/admin/people/{leaver.id}/reactivate")
    login(app_ctx.test_client(), leaver)
    assert audit("account.reactivated", object_id=str(leaver.id))

    response = client.post(f"/admin/people/{staff.id}/deactivate", follow_redirects=True)
    assert "You cannot deactivate your own account." in flashes(response)
    assert fresh(User, staff.id).active


def test_roles_change_is_audited(app_ctx, factory) -> None:  # noqa: ANN001
    staff = factory.staff()
    person = factory.reviewer()
    client = app_ctx.test_client()
    login(client, staff)
    response = client.post(f"/admin/people/{person.id}", data={"roles": ["alumnus"]})
    assert response.status_code == 303
    assert fresh(User, person.id).roles == {Role.ALUMNUS}
    [event] = audit("account.roles_changed", object_id=str(person.id))
    assert event.actor_id == staff.id
    assert event.details["added"] == ["alumnus"] and event.details["removed"] == ["reviewer"]
    page = client.get("/admin/audit", query_string={"action": "account.roles_changed"})
    assert "account.roles_changed" in page.get_data(as_text=True)

    # Staff cannot take away their own staff role.
    client.post(f"/admin/people/{staff.id}", data={"roles": ["reviewer"]})
    assert fresh(User, staff.id).has_role(Role.STAFF)


def test_people_list_filters(client, factory) -> None:  # noqa: ANN001
    login(client, factory.staff())
    factory.reviewer(name="Findable Reviewer")
    factory.alumnus(name="Other Alumnus")
    page = client.get("/admin/people", query_string={"q": "findable"}).get_data(as_text=True)
    assert "Findable Reviewer" in page and "Other Alumnus" not in page
    partial = client.get("/admin/people", query_string={"role": "alumnus"},
                         headers={"HX-Request": "true"})
    html = partial.get_data(as_text=True)
    assert "Other Alumnus" in html and "Findable Reviewer" not in html
    assert "<html" not in html


def test_nominator_cannot_turn_an_existing_account_into_a_colleague(client, factory, login_as):
    nominator = factory.nominator()
    reviewer = factory.reviewer()
    login_as(nominator)
    response = client.post("/institution/people", data={
        "name": "Someone", "email": reviewer.email, "language": "en"})
    assert response.status_code == 303  # the same answer as for a new address (point 10)
    db.session.refresh(reviewer)
    assert not reviewer.has_role(Role.NOMINATOR)
    assert reviewer.institution_id is None
    assert not outbox(reviewer.email)


def _shown(response) -> str:  # noqa: ANN001
    """What the nominator reads: the page's main text, the typed address and the CSRF
    token (which changes with every answer) taken out."""
    html = response.get_data(as_text=True)
    main = html[html.index("<main"):html.index("</main>")]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def test_inviting_a_colleague_says_the_same_for_every_address(client, factory,  # noqa: ANN001
                                                             login_as) -> None:
    """Issue 12, point 10: whether an address has an account, and which role it holds,
    is not the nominator's to learn; staff see the conflict on the institution's page."""
    mine, theirs = factory.institution(name="Mine"), factory.institution(name="Theirs")
    nominator = factory.nominator(mine)
    existing = {
        "reviewer": factory.reviewer(email="reviewer@example.org"),
        "staff": factory.staff(email="boss@example.org"),
        "other nominator": factory.nominator(theirs, email="theirs@example.org"),
        "deactivated": factory.reviewer(email="gone@example.org", active=False),
    }
    login_as(nominator)
    answers = {}
    for n, email in enumerate(["new.person@example.org",
                               *[u.email for u in existing.values()]]):
        response = client.post("/institution/people", data={
            "name": f"Person {n}", "email": email, "language": "en"}, follow_redirects=True)
        answers[email] = (response.status_code,
                          _shown(response).replace(email, "EMAIL").replace(f"Person {n}",
                                                                           "NAME"))
    pages = {a[1].split("Invitations waiting")[0] for a in answers.values()}
    assert {status for status, _ in answers.values()} == {200}
    assert len(pages) == 1, pages
    assert "Invitation sent to EMAIL." in pages.pop()
    listing = client.get("/institution/people").get_data(as_text=True)
    for email in answers:  # every address is listed as waiting, the same way
        assert email in listing
    for user in existing.values():
        db.session.refresh(user)
        assert user.institution_id != mine.id and not outbox(user.email)
    assert len(outbox("new.person@example.org")) == 1

    login_as(factory.staff(email="staff2@example.org"))
    page = client.get(f"/admin/institutions/{mine.id}").get_data(as_text=True)
    assert "Colleague invitations for addresses that have an account" in page
    for email, reason in [("reviewer@example.org", "an account with other roles"),
                          ("theirs@example.org", "a nominator of another institution"),
                          ("gone@example.org", "a deactivated account")]:
        assert email in page and reason in page
    assert audit("account.colleague_conflict")


def test_setting_a_password_voids_every_other_link_of_the_person(app_ctx, factory) -> None:  # noqa: ANN001
    """Issue 12, point 11: an invitation still open after the person set a password by a
    reset link must not work (it would set the password again and sign them out)."""
    staff = factory.staff()
    staff_client = app_ctx.test_client()
    login(staff_client, staff)
    staff_client.post("/admin/people/invite", data={
        "name": "Dr. Two Links", "email": "two.links@example.org", "roles": "reviewer",
        "institution_id": "0", "language": "en"})
    [invitation] = outbox("two.links@example.org")
    person = app_ctx.test_client()
    person.post("/password/forgot", data={"email": "two.links@example.org"})
    reset = outbox("two.links@example.org")[-1]
    assert reset.template == "password_reset"
    assert person.post(link_path(reset), data={"password": NEW, "confirm": NEW}
                       ).status_code == 303
    assert person.get("/dashboard").status_code == 200

    assert person.get(link_path(invitation)).status_code == 410
    assert person.post(link_path(invitation), data={"password": "another password 1",
                                                    "confirm": "another password 1"}
                       ).status_code == 410
    assert person.get("/dashboard").status_code == 200  # still signed in
    login(app_ctx.test_client(), _user("two.links@example.org"), NEW)


def test_changing_the_password_voids_an_open_reset_link(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer(email="changer@example.org")
    client = app_ctx.test_client()
    client.post("/password/forgot", data={"email": user.email})
    [reset] = outbox(user.email)
    login(client, user)
    assert client.post("/account/password", data={
        "current": TEST_PASSWORD, "password": NEW, "confirm": NEW}).status_code == 303
    assert app_ctx.test_client().get(link_path(reset)).status_code == 410
