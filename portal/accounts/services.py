"""Accounts: invitations, roles, deactivation, passwords, profiles. No request objects
here; the service that changes an account writes its audit record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from portal import tokens
from portal.accounts.models import (
    ColleagueConflict,
    ColleagueInvitation,
    Role,
    User,
    UserRole,
    new_session_token,
)
from portal.accounts.passwords import hash_password
from portal.audit.services import record
from portal.db import utcnow
from portal.errors import Refused
from portal.extensions import db
from portal.listing import ListFilters, Page, page_of
from portal.notify.services import queue_mail, recipient_allows
from portal.web import external_url as external_url  # re-exported: mails of other areas

INVITE = "invite"
RESET = "reset"
PENDING_SHOWN = 100  # colleague invitations listed (most recent)


class AccountError(Refused):
    """A rule about accounts said no (422); `message` is shown to the user."""


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def by_email(email: str) -> User | None:
    return db.session.scalars(
        select(User).where(User.email == normalize_email(email))  # stored normalised
    ).first()


def grant(user: User, role: Role | str) -> bool:
    if user.has_role(role):
        return False
    user.role_rows.append(UserRole(role=str(role)))
    return True


def revoke(user: User, role: Role | str) -> bool:
    rows = [r for r in user.role_rows if r.role == str(role)]
    for row in rows:
        user.role_rows.remove(row)
    return bool(rows)


def invite(
    *, email: str, name: str, roles: list[Role], inviter: User | None,
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
    if user is not None and inviter is not None and not inviter.has_role(Role.STAFF):
        # Colleagues may only bring in new people; turning an existing account (a reviewer,
        # an alumnus) into their institution's nominator is for staff to decide.
        raise AccountError(_l("This address already has an account. Program staff can "
                              "give it access to your institution."))
    created = user is None
    if user is None:
        user = User(email=email, name=name.strip(), language=language)
        db.session.add(user)
    if institution_id is not None and Role.NOMINATOR in roles:
        user.institution_id = institution_id
    added = [str(r) for r in roles if grant(user, r)]
    db.session.flush()
    record("account.invited" if created else "account.roles_granted", actor=inviter,
           object_type="user", object_id=user.id, details={"email": email, "roles": added})
    inviter_name = inviter.name if inviter is not None else ""
    if created or user.password_hash is None:
        tokens.revoke_for_user(user.id, INVITE)
        secret = tokens.issue(
            INVITE, user_id=user.id,
            lifetime=timedelta(days=current_app.config["INVITE_DAYS"]),
        )
        queue_mail(
            user.email, "invitation", subject=_l("You are invited to the training program portal"),
            language=user.language or language, name=user.name, inviter=inviter_name,
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


def invite_colleague(*, email: str, name: str, inviter: User, language: str = "en"
                     ) -> ColleagueInvitation:
    """A nominator invites a colleague to their own institution. What the nominator sees
    does not depend on the address: a new one gets an account and the invitation mail; an
    address that has an account already (of any kind) is left exactly as it is, no mail
    goes, and the conflict is kept for staff (the institution's page)."""
    if inviter.institution_id is None:
        raise AccountError(_l("A nominator must belong to an institution."))
    email = normalize_email(email)
    row = ColleagueInvitation(institution_id=inviter.institution_id, email=email,
                              name=name.strip(), invited_by_id=inviter.id)
    existing = by_email(email)
    if existing is None:
        row.user_id = invite(email=email, name=name, roles=[Role.NOMINATOR], inviter=inviter,
                             institution_id=inviter.institution_id, language=language).id
    else:
        row.conflict = _conflict(existing, inviter.institution_id)
        row.conflict_user_id = existing.id
        record("account.colleague_conflict", actor=inviter, object_type="user",
               object_id=existing.id, details={"email": email, "reason": row.conflict,
                                               "institution_id": inviter.institution_id})
    db.session.add(row)
    db.session.flush()
    return row


def _conflict(existing: User, institution_id: int) -> ColleagueConflict:
    if not existing.active:
        return ColleagueConflict.DEACTIVATED
    if existing.has_role(Role.NOMINATOR):
        return (ColleagueConflict.COLLEAGUE if existing.institution_id == institution_id
                else ColleagueConflict.OTHER_INSTITUTION)
    return ColleagueConflict.OTHER_ROLES


@dataclass(frozen=True)
class PendingColleague:
    """An invitation the colleagues page lists as waiting (the same for every address)."""

    name: str
    email: str
    invited_at: datetime


def pending_colleagues(institution_id: int) -> list[PendingColleague]:
    """Invitations of this institution's nominators not yet taken up (and nominators staff
    invited who have not set a password yet), newest first."""
    rows = db.session.execute(
        select(ColleagueInvitation, User.password_hash)
        .outerjoin(User, User.id == ColleagueInvitation.user_id)
        .where(ColleagueInvitation.institution_id == institution_id)
        .order_by(ColleagueInvitation.created_at.desc()).limit(PENDING_SHOWN)).all()
    shown = [PendingColleague(row.name, row.email, row.created_at)
             for row, password in rows if password is None]
    listed = {p.email for p in shown}
    waiting = db.session.scalars(
        select(User).where(User.institution_id == institution_id,
                           User.password_hash.is_(None), User.active)).all()
    shown += [PendingColleague(u.name, u.email, u.created_at) for u in waiting
              if u.email not in listed and u.has_role(Role.NOMINATOR)]
    return sorted(shown, key=lambda p: p.invited_at, reverse=True)


def colleague_conflicts(institution_id: int) -> list[tuple[ColleagueInvitation, User | None]]:
    """For staff: colleague invitations that found an existing account, newest first."""
    return [(row, user) for row, user in db.session.execute(
        select(ColleagueInvitation, User)
        .outerjoin(User, User.id == ColleagueInvitation.conflict_user_id)
        .where(ColleagueInvitation.institution_id == institution_id,
               ColleagueInvitation.conflict.is_not(None))
        .order_by(ColleagueInvitation.created_at.desc()).limit(PENDING_SHOWN)).tuples()]


def set_password(user: User, password: str, *, action: str | None = None) -> None:
    """New password; every other session of this user ends, and every link still open for
    them (invitation, reset) stops working. `action`: the audit record (the person sets
    their own password: they are the actor)."""
    had_password = user.password_hash is not None
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    tokens.revoke_all_for_user(user.id)
    if action:
        record(action, actor=user, object_type="user", object_id=user.id)
    if had_password:  # a first password (an invitation) is no news to its owner
        tell_security_change(user, "password_changed",
                             _l("Your password was changed"))


def tell_security_change(user: User, template: str, subject: object) -> None:
    """Mail the person that their password changed or their second factor went off, with
    the link to set a new password if it was not them."""
    queue_mail(user.email, template, subject=subject, language=user.language or "en",
               when=utcnow().strftime("%Y-%m-%d %H:%M"),
               link=external_url("auth.forgot_password"))


def create_staff(*, email: str, name: str, password: str) -> User:
    """The first staff account of a new installation (`flask create-staff`)."""
    if by_email(email):
        raise AccountError(_l("An account with this e-mail exists."))
    user = User(email=normalize_email(email), name=name)
    db.session.add(user)
    db.session.flush()
    set_password(user, password)
    grant(user, Role.STAFF)
    record("account.created_from_cli", actor=None, actor_label="cli", object_type="user",
           object_id=user.id)
    return user


def update_profile(user: User, *, name: str, language: str | None, timezone: str | None
                   ) -> dict[str, str | None]:
    """The person's own name, language and zone; returns what changed."""
    before = {"name": user.name, "language": user.language, "timezone": user.timezone}
    user.name = name.strip()
    user.language = language
    user.timezone = timezone or None
    after = {"name": user.name, "language": user.language, "timezone": user.timezone}
    changed = {k: v for k, v in after.items() if before[k] != v}
    if changed:
        record("account.profile_changed", actor=user, object_type="user", object_id=user.id,
               details=changed)
    return changed


def set_language(user: User, language: str) -> None:
    """The language switch remembers the choice on the account."""
    if user.language != language:
        user.language = language


def set_roles(user: User, wanted: Iterable[Role], actor: User) -> tuple[list[str], list[str]]:
    """Staff give and take roles; returns (added, removed)."""
    wanted = set(wanted)
    if user.id == actor.id and Role.STAFF not in wanted:
        raise AccountError(_l("You cannot remove your own staff role."))
    if Role.NOMINATOR in wanted and not user.institution_id:
        raise AccountError(_l("A nominator must belong to an institution. Invite them from "
                              "the institution's page."))
    added = [str(r) for r in Role if r in wanted and grant(user, r)]
    removed = [str(r) for r in Role if r not in wanted and revoke(user, r)]
    if added or removed:
        record("account.roles_changed", actor=actor, object_type="user", object_id=user.id,
               details={"email": user.email, "added": added, "removed": removed})
    return added, removed


def colleagues_of(user: User) -> list[User]:
    """The nominators of the person's own institution who have joined (set a password);
    invitations still open are `pending_colleagues`."""
    people = db.session.scalars(
        select(User).where(User.institution_id == user.institution_id,
                           User.password_hash.is_not(None)).order_by(User.name)
    ).all()
    return [p for p in people if p.has_role(Role.NOMINATOR)]


# --- the staff list of people ------------------------------------------------------------

@dataclass(frozen=True)
class PeopleFilters(ListFilters):
    PER_PAGE = 50
    PER_PAGE_CHOICES = (50,)

    q: str = ""
    role: str = ""

    @classmethod
    def parse(cls, args: Mapping[str, object]) -> dict[str, object]:
        role = str(args.get("role") or "")
        return {"q": str(args.get("q") or "").strip()[:100],
                "role": role if role in {str(r) for r in Role} else ""}


def people_query(f: PeopleFilters) -> Select[tuple[User]]:
    query = select(User).options(selectinload(User.institution)).order_by(User.name, User.id)
    if f.q:
        like = f"%{f.q.lower()}%"
        query = query.where(or_(func.lower(User.name).like(like), User.email.like(like)))
    if f.role:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == f.role)))
    return query


def people_page(f: PeopleFilters) -> Page[User]:
    """One page of the people list: three queries (rows, roles, institutions) and a count,
    whatever the page holds."""
    return page_of(people_query(f), f.page, f.size)


def deactivate(user: User, actor: User) -> None:
    if user.id == actor.id:
        raise AccountError(_l("You cannot deactivate your own account."))
    if not user.active:
        return
    user.active = False
    user.deactivated_at = utcnow()
    user.session_token = new_session_token()  # every open session ends at its next request
    tokens.revoke_all_for_user(user.id)
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
    if not recipient_allows("password-reset", user.email,
                            current_app.config["PASSWORD_RESET_MAIL_LIMIT"]):
        return  # the address had its share of reset mails for now
    tokens.revoke_for_user(user.id, RESET)
    secret = tokens.issue(
        RESET, user_id=user.id, lifetime=timedelta(hours=current_app.config["TOKEN_HOURS"])
    )
    queue_mail(  # the portal's own text and the link only: anybody can ask for it
        user.email, "password_reset", subject=_l("Reset your password"),
        language=user.language or "en",
        link=external_url("auth.reset_password", token=secret),
        hours=current_app.config["TOKEN_HOURS"],
    )
    record("account.reset_requested", actor=user, object_type="user", object_id=user.id)
