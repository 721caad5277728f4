"""Invitations for alumni to claim an account: queued in bulk, sent a few per minute.

A bulk request writes one AlumniInvitation row per person, each given the minute from
which it may go (`not_before`), so at most ALUMNI_INVITES_PER_MINUTE leave per minute
whatever runs the sending: the job enqueued after the request sends what is due at once,
and the periodic tick (`flask jobs tick`, every minute) sends the following batches.
Nobody is invited twice within ALUMNI_INVITE_COOLDOWN_DAYS: the check is a conditional
UPDATE on the alumnus row, so two senders running at once cannot both send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select, update

from portal import jobs
from portal.accounts.models import Role, User
from portal.accounts.services import AccountError, by_email, invite
from portal.alumni.models import AlumniInvitation, Alumnus, InvitationStatus
from portal.alumni.services import AlumniError
from portal.audit.services import record
from portal.db import rowcount, utcnow
from portal.errors import Conflict
from portal.extensions import db
from portal.notify.models import MailStatus, OutboxMessage
from portal.transaction import run_unit

DEFAULT_PER_MINUTE = 30
DEFAULT_COOLDOWN_DAYS = 5
SEND_JOB = "portal.alumni.invitations.send_due"


def per_minute() -> int:
    return max(int(current_app.config.get("ALUMNI_INVITES_PER_MINUTE", DEFAULT_PER_MINUTE)), 1)


def cooldown() -> timedelta:
    return timedelta(days=int(current_app.config.get("ALUMNI_INVITE_COOLDOWN_DAYS",
                                                     DEFAULT_COOLDOWN_DAYS)))


@dataclass
class RequestResult:
    queued: int = 0
    recently_invited: int = 0  # invited within the cool-down, or already queued
    no_email: int = 0
    has_account: int = 0
    first_minute: datetime | None = None
    last_minute: datetime | None = None


def request_invitations(selection: Select[tuple[Alumnus]], actor: User | None,
                        now: datetime | None = None) -> RequestResult:
    """Queue invitations for the records of `selection` (a select of Alumnus)."""
    now = now or utcnow()
    result = RequestResult()
    pending = select(AlumniInvitation.alumnus_id).where(
        AlumniInvitation.status.in_([InvitationStatus.PENDING, InvitationStatus.SENDING,
                                     InvitationStatus.HELD]))
    rows = db.session.execute(
        selection.with_only_columns(Alumnus.id, Alumnus.email, Alumnus.user_id,
                                    Alumnus.invited_at, Alumnus.id.in_(pending))
        .where(Alumnus.merged_into_id.is_(None)).order_by(None).order_by(Alumnus.id)).all()
    # Users linked to the selection who already set a password have claimed their account.
    claimed = set(db.session.scalars(select(User.id).where(
        User.id.in_([r.user_id for r in rows if r.user_id]), User.password_hash.is_not(None))))
    # Continue after the last queued minute, so two bulk requests together keep the pace.
    last = db.session.scalar(select(func.max(AlumniInvitation.not_before)).where(
        AlumniInvitation.status == InvitationStatus.PENDING))
    start = max(now, last + timedelta(minutes=1)) if last else now
    limit = per_minute()
    for alumnus_id, email, user_id, invited_at, queued in rows:
        if not email:
            result.no_email += 1
        elif user_id in claimed:
            result.has_account += 1
        elif queued or (invited_at and invited_at > now - cooldown()):
            result.recently_invited += 1
        else:
            at = start + timedelta(minutes=result.queued // limit)
            db.session.add(AlumniInvitation(alumnus_id=alumnus_id, email=email,
                                            requested_by_id=actor.id if actor else None,
                                            requested_at=now, not_before=at))
            result.first_minute = result.first_minute or at
            result.last_minute = at
            result.queued += 1
    db.session.flush()
    if result.queued:
        record("alumni.invitations_requested", actor=actor, object_type="alumni",
               details={"queued": result.queued, "skipped_recent": result.recently_invited})
        jobs.enqueue(SEND_JOB)
    return result


def send_due(now: datetime | None = None) -> str:
    """Send the invitations whose minute has come (job and periodic tick). Each invitation
    is claimed and sent in a unit of work of its own: a second sender skips what the
    first claimed, and a failure leaves the other rows as they were."""
    if has_request_context():
        return _send_due(now)
    # invite() builds absolute links with url_for, which needs a request; a writing one,
    # so that SQLite takes the write lock at BEGIN (see portal._sqlite_begin).
    base = current_app.config["BASE_URL"]
    with current_app.test_request_context("/", base_url=base, method="POST"):
        return _send_due(now)


def _due_ids(now: datetime) -> list[int]:
    return list(db.session.scalars(
        select(AlumniInvitation.id)
        .where(AlumniInvitation.status == InvitationStatus.PENDING,
               AlumniInvitation.not_before <= now)
        .order_by(AlumniInvitation.not_before, AlumniInvitation.id)
        .limit(per_minute())))


def _send_due(now: datetime | None) -> str:
    now = now or utcnow()
    counts = {"sent": 0, "skipped": 0, "failed": 0, InvitationStatus.HELD: 0}
    for invitation_id in run_unit(_due_ids, now):
        outcome = run_unit(_send_one, invitation_id, now)
        if outcome:
            counts[outcome] += 1
    return ", ".join(f"{v} {k}" for k, v in counts.items()
                     if v or k != InvitationStatus.HELD)  # "held" only when some were


def _claim(invitation_id: int) -> bool:
    return rowcount(db.session.execute(
        update(AlumniInvitation)
        .where(AlumniInvitation.id == invitation_id,
               AlumniInvitation.status == InvitationStatus.PENDING)
        .values(status=InvitationStatus.SENDING)
        .execution_options(synchronize_session=False))) == 1


def _send_one(invitation_id: int, now: datetime) -> str | None:
    """Claim one invitation and create the account (which queues the mail; the mail is
    sent after this unit commits, and the outbox keeps it if sending fails)."""
    if not _claim(invitation_id):
        return None  # another sender has it
    invitation = db.session.get(AlumniInvitation, invitation_id, populate_existing=True)
    alumnus = db.session.get(Alumnus, invitation.alumnus_id, populate_existing=True) \
        if invitation is not None else None
    if invitation is None or alumnus is None:
        return None
    outcome, error = "skipped", ""
    user = by_email(alumnus.email or "")
    linked_elsewhere = user is not None and db.session.scalar(
        select(Alumnus.id).where(Alumnus.user_id == user.id, Alumnus.id != alumnus.id)
    ) is not None
    if alumnus.merged_into_id or not alumnus.email or alumnus.email != invitation.email:
        error = "the record changed since the invitation was queued"
    elif linked_elsewhere:
        error = "this address belongs to an account linked to another record"
    elif user is not None and user.password_hash and alumnus.user_id == user.id:
        error = "the account is already claimed"
    elif user is not None and alumnus.user_id != user.id:
        # Someone else's account may use this address (a reviewer, a nominator): it gets
        # no alumnus role and no record until staff confirm the match on the record page.
        outcome = InvitationStatus.HELD
        error = "an account with this address exists: staff confirm it is this person"
    elif not _take_cooldown(alumnus.id, now):
        error = "invited within the cool-down period"
    else:
        inviter = db.session.get(User, invitation.requested_by_id) \
            if invitation.requested_by_id else None
        try:
            user = invite(email=alumnus.email, name=alumnus.display_name or alumnus.email,
                          roles=[Role.ALUMNUS], inviter=inviter,
                          language=alumnus.language or "en")
        except AccountError as exc:
            outcome, error = "failed", str(exc.message)
        else:
            alumnus.user_id = user.id
            invitation.user_id = user.id
            invitation.sent_at = now
            outcome = "sent"
    invitation.status = outcome
    invitation.error = error
    return outcome


def _take_cooldown(alumnus_id: int, now: datetime) -> bool:
    """Mark the person invited now, unless they were within the cool-down (atomic)."""
    return rowcount(db.session.execute(
        update(Alumnus)
        .where(Alumnus.id == alumnus_id,
               or_(Alumnus.invited_at.is_(None), Alumnus.invited_at <= now - cooldown()))
        .values(invited_at=now)
        .execution_options(synchronize_session=False))) == 1


def account_match(alumnus: Alumnus) -> User | None:
    """The account that uses the record's address without being linked to it, when an
    invitation is held for staff to confirm the match."""
    held = db.session.scalar(select(AlumniInvitation.id).where(
        AlumniInvitation.alumnus_id == alumnus.id,
        AlumniInvitation.status == InvitationStatus.HELD).limit(1))
    if held is None or not alumnus.email:
        return None
    user = by_email(alumnus.email)
    return user if user is not None and user.id != alumnus.user_id else None


def confirm_account_match(alumnus: Alumnus, actor: User) -> User:
    """Staff confirm the account with the record's address is this alumnus: the record is
    linked to it and the account gets the alumnus role (the person is told by mail)."""
    user = account_match(alumnus)
    if user is None or alumnus.merged_into_id:
        raise MatchDecided
    if db.session.scalar(select(Alumnus.id).where(Alumnus.user_id == user.id)) is not None:
        raise AlumniError(_l("This account is linked to another record. Merge the two "
                             "records instead."))
    invite(email=user.email, name=user.name, roles=[Role.ALUMNUS], inviter=actor,
           language=alumnus.language or "en")
    alumnus.user_id = user.id
    db.session.execute(
        update(AlumniInvitation)
        .where(AlumniInvitation.alumnus_id == alumnus.id,
               AlumniInvitation.status == InvitationStatus.HELD)
        .values(status=InvitationStatus.SENT, user_id=user.id, sent_at=utcnow(),
                error="staff confirmed the account")
        .execution_options(synchronize_session=False))
    record("alumni.account_linked", actor=actor, object_type="alumnus", object_id=alumnus.id,
           details={"user_id": user.id, "email": user.email})
    return user


class MatchDecided(Conflict):
    """The held invitation was decided or changed meanwhile (409)."""

    default_message = _l("There is no account match to confirm on this record any more.")


def held_invitations(limit: int = 500) -> list[tuple[AlumniInvitation, Alumnus]]:
    """Invitations waiting for staff to confirm an account match, newest first."""
    return [(i, a) for i, a in db.session.execute(
        select(AlumniInvitation, Alumnus)
        .join(Alumnus, Alumnus.id == AlumniInvitation.alumnus_id)
        .where(AlumniInvitation.status == InvitationStatus.HELD)
        .order_by(AlumniInvitation.requested_at.desc()).limit(limit)).tuples()]


def failed_invitations(limit: int = 500) -> list[SimpleNamespace]:
    """Invitation mails the outbox gave up on (bounced / refused), newest first, with the
    record they were for; plus invitations that could not be created at all."""
    mail_rows = db.session.execute(
        select(OutboxMessage, Alumnus)
        .join(AlumniInvitation, AlumniInvitation.email == OutboxMessage.to_addr)
        .join(Alumnus, Alumnus.id == AlumniInvitation.alumnus_id)
        .where(OutboxMessage.status == MailStatus.FAILED,
               OutboxMessage.template.in_(["invitation", "roles_granted"]),
               AlumniInvitation.status == InvitationStatus.SENT,
               OutboxMessage.created_at >= AlumniInvitation.requested_at)
        .order_by(OutboxMessage.created_at.desc()).limit(limit)).all()
    seen: set[int] = set()
    out: list[SimpleNamespace] = []
    for message, alumnus in mail_rows:
        if message.id not in seen:
            seen.add(message.id)
            out.append(SimpleNamespace(alumnus=alumnus, email=message.to_addr,
                                       at=message.created_at, error=message.last_error or "",
                                       message_id=message.id, kind="mail"))
    refused = db.session.execute(
        select(AlumniInvitation, Alumnus)
        .join(Alumnus, Alumnus.id == AlumniInvitation.alumnus_id)
        .where(AlumniInvitation.status == InvitationStatus.FAILED)
        .order_by(AlumniInvitation.requested_at.desc()).limit(limit)).all()
    for invitation, alumnus in refused:
        out.append(SimpleNamespace(alumnus=alumnus, email=invitation.email,
                                   at=invitation.requested_at, error=invitation.error,
                                   message_id=None, kind="account"))
    return out


def queue_counts() -> dict[str, int]:
    return {str(status): n for status, n in db.session.execute(
        select(AlumniInvitation.status, func.count()).group_by(AlumniInvitation.status)).all()}
