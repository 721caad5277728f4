"""Mails about nominations: the receipt, "changes requested", an answer behind a one-time
link, and who receives them (the active nominators of an institution).

A leaf of the area: the workflow, the confirmations and the reminders send through it.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Role, User, UserRole
from portal.accounts.services import external_url
from portal.cycles.models import Cycle
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.labels import FIELD_LABELS
from portal.nominations.lifecycle import NominationState
from portal.nominations.models import Nomination, NominationDocument
from portal.notify.services import queue_mail


def nominators_of(institution_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(User.institution_id == institution_id, User.active.is_(True),
               UserRole.role == str(Role.NOMINATOR)).order_by(User.id)))


def workspace_link(nomination: Nomination) -> str:
    return external_url("nominations.show", nomination_id=nomination.id)


def send_receipt(nomination: Nomination, cycle: Cycle, actor: User | None) -> None:
    """Receipt to the person who submitted: every file with its size and SHA-256, so the
    institution can prove what it sent."""
    if actor is None or not actor.email:
        return
    docs = db.session.scalars(
        select(NominationDocument).where(NominationDocument.nomination_id == nomination.id)
        .options(selectinload(NominationDocument.blob),
                 selectinload(NominationDocument.requirement))
    ).all()
    docs = sorted(docs, key=lambda d: (d.requirement.position, d.requirement.id))
    queue_mail(
        actor.email, "nomination_receipt",
        subject=_l("Receipt: nomination %(ref)s submitted", ref=nomination.reference),
        language=actor.language, nomination=nomination, cycle=cycle,
        documents=docs, name=actor.name, link=workspace_link(nomination),
        resubmitted=nomination.state == NominationState.RESUBMITTED,
    )


def notify_returned(nomination: Nomination, comment: str, note_count: int) -> None:
    for user in nominators_of(nomination.institution_id):
        queue_mail(
            user.email, "nomination_returned",
            subject=_l("Nomination %(ref)s: changes requested", ref=nomination.reference),
            language=user.language, nomination=nomination, comment=comment,
            note_count=note_count, name=user.name, link=workspace_link(nomination),
        )


def notify_answered(nomination: Nomination, kind: str, decision: str, comment: str) -> None:
    """The nominators hear that the head or the candidate answered a one-time link."""
    for user in nominators_of(nomination.institution_id):
        queue_mail(
            user.email, "nomination_confirmation_answered",
            subject=_l("Nomination %(ref)s: an answer arrived", ref=nomination.reference),
            language=user.language, nomination=nomination, kind=kind, decision=decision,
            comment=comment, name=user.name, link=workspace_link(nomination),
        )


def notify_candidate_of_changes(nomination: Nomination, addresses: list[str],
                                fields: list[str]) -> None:
    """The candidate hears that facts they confirmed (or were asked to confirm) changed:
    which ones, never their new values (the address may no longer be the candidate's).
    Each address once; empty ones are skipped."""
    institution = db.session.get(Institution, nomination.institution_id)
    cycle = db.session.get(Cycle, nomination.cycle_id)
    seen: set[str] = set()
    for address in addresses:
        key = (address or "").strip().lower()
        if not key or key in seen:
            continue
        seen.add(key)
        queue_mail(
            key, "nomination_facts_changed",
            subject=_l("Your nomination for the medical training program was changed"),
            language=None, nomination=nomination, institution=institution, cycle=cycle,
            fields=[FIELD_LABELS.get(f, f) for f in fields],
        )
