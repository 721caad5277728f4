"""Links sent by e-mail (password reset, invitation) work once and expire."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from portal.accounts.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.tokens import OneTimeToken
from tests.conftest import login
from tests.foundation.helpers import fresh, link_path, outbox

NEW = "my new password 2026"


def _set_password(client, path: str):  # noqa: ANN001, ANN202
    return client.post(path, data={"password": NEW, "confirm": NEW})


def _expire_all_links() -> None:
    db.session.execute(update(OneTimeToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_reset_link_works_once(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer(email="forgetful@example.org")
    client = app_ctx.test_client()
    client.post("/password/forgot", data={"email": "Forgetful@Example.org"})
    [mail] = outbox("forgetful@example.org")
    path = link_path(mail)
    assert path.startswith("/password/reset/")
    assert "expires" in mail.body_text

    page = client.get(path)
    assert page.status_code == 200
    response = _set_password(client, path)
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200  # signed in by the link

    stranger = app_ctx.test_client()
    assert stranger.get(path).status_code == 410
    gone = _set_password(stranger, path)
    assert gone.status_code == 410
    assert "This link no longer works" in gone.get_data(as_text=True)
    login(stranger, user, NEW)


def test_a_newer_reset_link_replaces_the_older(app_ctx, factory) -> None:  # noqa: ANN001
    factory.reviewer(email="twice@example.org")
    client = app_ctx.test_client()
    client.post("/password/forgot", data={"email": "twice@example.org"})
    client.post("/password/forgot", data={"email": "twice@example.org"})
    first, second = outbox("twice@example.org")
    assert client.get(link_path(first)).status_code == 410
    assert client.get(link_path(second)).status_code == 200


def test_expired_reset_link_is_refused(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer()
    client = app_ctx.test_client()
    client.post("/password/forgot", data={"email": user.email})
    path = link_path(outbox(user.email)[0])
    _expire_all_links()
    assert client.get(path).status_code == 410
    assert _set_password(client, path).status_code == 410
    assert fresh(User, user.id).password_hash == user.password_hash


def test_reset_of_a_deactivated_account_sends_nothing(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer(active=False)
    app_ctx.test_client().post("/password/forgot", data={"email": user.email})
    assert outbox(user.email) == []


def test_invitation_link_works_once_and_expires(app_ctx, factory) -> None:  # noqa: ANN001
    staff = factory.staff()
    client = app_ctx.test_client()
    login(client, staff)
    for email in ("first@example.org", "late@example.org"):
        response = client.post("/admin/people/invite", data={
            "name": "New Person", "email": email, "roles": "reviewer",
            "institution_id": "0", "language": "en"})
        assert response.status_code == 303
    first = link_path(outbox("first@example.org")[0])
    late = link_path(outbox("late@example.org")[0])

    guest = app_ctx.test_client()
    assert _set_password(guest, first).status_code == 303
    assert _set_password(app_ctx.test_client(), first).status_code == 410

    _expire_all_links()
    page = app_ctx.test_client().get(late)
    assert page.status_code == 410
    assert fresh(User, db.session.scalar(
        db.select(User.id).where(User.email == "late@example.org"))).password_hash is None


def test_mailed_links_ignore_the_host_header(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer()
    app_ctx.test_client().post("/password/forgot", data={"email": user.email},
                               headers={"Host": "evil.example.com"})
    [mail] = outbox(user.email)
    assert "evil.example.com" not in mail.body_text
    assert link_path(mail, base="http://portal.test").startswith("/password/reset/")
