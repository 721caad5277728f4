"""Accounts: invitations, roles, deactivation, passwords. No request objects here."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import tokens
from portal.accounts.models import Role, User, UserRole, new_session_token
from portal.audit.services import record
from portal.auth.passwords import hash_password
from portal.db import utcnow
from portal.extensions import db
from portal.notify.services import queue_mail

INVITE = "invite"
RESET = "reset"


class AccountError(Exception):
    """A rule was broken; `message` is shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def by_email(email: str) -> User | None:
    return db.session.scalars(
        select(User).where(User.email == normalize_email(email))  # stored normalised
    ).first()


def external_url(endpoint: str, **values: object) -> str:
    """Absolute link for e-mails, on the configured public address (never the Host header)."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return base + url_for(endpoint, **values)


def grant(user: User, role: Role) -> bool:
    if user.has_role(role):
        return False
    user.role_rows.append(UserRole(role=str(role)))
    return True


def revoke(user: User, role: Role) -> bool:
    rows = [r for r in user.role_rows if r.role == str(role)]
    for row in rows:
        user.role_rows.remove(row)
    return bool(rows)


def invite(
    *, email: str, name: str, roles: list[Role], inviter: User,
    institution_id: int | None = None, language: str = "en",
) -> User:
    """Create the account (or add roles to an existing one) and mail the link.

    A new account has no password until the link is used; the link expires after
    PORTAL_INVITE_DAYS and works once.
    """
    email = normalize_email(email)
    if Role.NOMINATOR in roles and institution_id is None:
        raise AccountError(_l("A nominator must belong to an institution."))
    user = by_email(email)
    if user is not None and not user.active:
        raise AccountError(_l("This account is deactivated. Reactivate it instead."))
    if user is not None and Role.NOMINATOR in roles and user.institution_id not in (
        None, institution_id
    ):
        raise AccountError(_l("This person is a nominator of another institution."))
    if user is not None and not inviter.has_role(Role.STAFF):
        # Colleagues may only bring in new people; turning an existing account (a reviewer,
        # an alumnus) into their institution's nominator is for staff to decide.
        raise AccountError(_l("This address already has an account. Program staff can "
                              "give it access to your institution."))
    created = user is None
    if created:
        user = User(email=email, name=name.strip(), language=language)
        db.session.add(user)
    if institution_id is not None and Role.NOMINATOR in roles:
        user.institution_id = institution_id
    added = [str(r) for r in roles if grant(user, r)]
    db.session.flush()
    record("account.invited" if created else "account.roles_granted", actor=inviter,
           object_type="user", object_id=user.id, details={"email": email, "roles": added})
    if created or user.password_hash is None:
        tokens.revoke_for_user(user.id, INVITE)
        secret = tokens.issue(
            INVITE, user_id=user.id,
            lifetime=timedelta(days=current_app.config["INVITE_DAYS"]),
        )
        queue_mail(
            user.email, "invitation", subject=_l("You are invited to the training program portal"),
            language=user.language or language, name=user.name, inviter=inviter.name,
            roles=added, link=external_url("auth.accept_invitation", token=secret),
            days=current_app.config["INVITE_DAYS"],
        )
    else:
        queue_mail(
            user.email, "roles_granted", subject=_l("New access in the training program portal"),
            language=user.language or language, name=user.name, roles=added,
            link=external_url("main.dashboard"),
        )
    return user


def set_password(user: User, password: str) -> None:
    """New password; every other session of this user ends."""
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    tokens.revoke_for_user(user.id, RESET)


def deactivate(user: User, actor: User) -> None:
    if user.id == actor.id:
        raise AccountError(_l("You cannot deactivate your own account."))
    if not user.active:
        return
    user.active = False
    user.deactivated_at = utcnow()
    user.session_token = new_session_token()  # every open session ends at its next request
    tokens.revoke_for_user(user.id, INVITE)
    tokens.revoke_for_user(user.id, RESET)
    record("account.deactivated", actor=actor, object_type="user", object_id=user.id,
           details={"email": user.email})


def reactivate(user: User, actor: User) -> None:
    if user.active:
        return
    user.active = True
    user.deactivated_at = None
    record("account.reactivated", actor=actor, object_type="user", object_id=user.id,
           details={"email": user.email})


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists and is active; callers answer the same way
    whatever happens here, so the form tells nobody which addresses have accounts."""
    user = by_email(email)
    if user is None or not user.active:
        return
    tokens.revoke_for_user(user.id, RESET)
    secret = tokens.issue(
        RESET, user_id=user.id, lifetime=timedelta(hours=current_app.config["TOKEN_HOURS"])
    )
    queue_mail(
        user.email, "password_reset", subject=_l("Reset your password"),
        language=user.language or "en", name=user.name,
        link=external_url("auth.reset_password", token=secret),
        hours=current_app.config["TOKEN_HOURS"],
    )
    record("account.reset_requested", actor=user, object_type="user", object_id=user.id)
