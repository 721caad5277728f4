"""`flask demo-data`: the README's demo accounts, refused in production."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.accounts.models import Role, User
from portal.extensions import db
from tests.conftest import login

DEMO_PASSWORD = "demo-pass-2026"
ACCOUNTS = {
    "admin@example.org": {Role.STAFF},
    "nominator@hospital-kl.example.org": {Role.NOMINATOR},
    "nominator@hospital-hanoi.example.org": {Role.NOMINATOR},
    **{f"reviewer{i}@example.org": {Role.REVIEWER} for i in (1, 2, 3)},
    **{f"alumnus{i}@example.org": {Role.ALUMNUS} for i in (1, 2, 3)},
}


def test_demo_data_is_refused_in_production(app_ctx, settings) -> None:  # noqa: ANN001
    settings(PRODUCTION=True)
    result = app_ctx.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code != 0
    assert "Refused" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_demo_accounts_sign_in(app_ctx) -> None:  # noqa: ANN001
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    assert "demo-pass-2026" in result.output

    users = {u.email: u for u in db.session.scalars(select(User))}
    for email, roles in ACCOUNTS.items():
        assert users[email].roles == roles, email
        assert not users[email].has_2fa
    kl = users["nominator@hospital-kl.example.org"]
    hanoi = users["nominator@hospital-hanoi.example.org"]
    assert kl.institution_id and hanoi.institution_id and kl.institution_id != hanoi.institution_id

    client = app_ctx.test_client()
    for email in ACCOUNTS:
        login(client, users[email], DEMO_PASSWORD)
        assert client.get("/dashboard").status_code == 200, email
        client.post("/logout")

    again = runner.invoke(args=["demo-data", "--if-empty"])
    assert again.exit_code == 0 and "not loaded" in again.output
    assert runner.invoke(args=["demo-data"]).exit_code != 0
