"""Endorsement by the head of the institution and consent of the candidate.

Both go through a one-time link (portal.tokens) to a person without an account.
The link shows a summary frozen when it was sent (`snapshot`); the answer is recorded
with time and IP, once: the token is consumed atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import tokens
from portal.accounts.models import User
from portal.accounts.services import external_url
from portal.audit.services import record
from portal.cycles.models import Cycle, Specialty
from portal.db import utcnow
from portal.errors import Refused
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.history import log_event
from portal.nominations.lifecycle import NOMINATION
from portal.nominations.mails import notify_answered
from portal.nominations.models import Confirmation, Nomination
from portal.notify.services import queue_mail

ENDORSEMENT = "endorsement"
CONSENT = "consent"
KINDS = (ENDORSEMENT, CONSENT)
PURPOSES = {ENDORSEMENT: "nomination-endorse", CONSENT: "nomination-consent"}

GRANTED = "granted"
DECLINED = "declined"
CORRECTION = "correction_requested"
DECISIONS = {ENDORSEMENT: (GRANTED, DECLINED), CONSENT: (GRANTED, CORRECTION)}


class ConfirmationError(Refused):
    """A refused request or answer; its message is shown to the person (translated)."""


GONE = _l("This link is not valid any more. It may have been used already or have expired.")


def lifetime() -> timedelta:
    """How long a link may be answered (CONFIRM_LINK_DAYS)."""
    return timedelta(days=int(current_app.config["CONFIRM_LINK_DAYS"]))


@dataclass
class Status:
    endorsement: Confirmation | None
    consent: Confirmation | None

    @property
    def endorsed(self) -> bool:
        return self.endorsement is not None and self.endorsement.decision == GRANTED

    @property
    def consented(self) -> bool:
        return self.consent is not None and self.consent.decision == GRANTED


def latest(nomination_ids: list[int]) -> dict[int, Status]:
    """The latest request of each kind per nomination (one query for any number)."""
    out = {i: Status(None, None) for i in nomination_ids}
    if not nomination_ids:
        return out
    rows = db.session.scalars(
        select(Confirmation).where(Confirmation.nomination_id.in_(nomination_ids))
        .order_by(Confirmation.nomination_id, Confirmation.id))
    for row in rows:  # ordered by id: the last one of each kind wins
        setattr(out[row.nomination_id], row.kind, row)
    return out


def status(nomination: Nomination) -> Status:
    return latest([nomination.id])[nomination.id]


def snapshot(nomination: Nomination, kind: str) -> dict[str, Any]:
    """What the head or the candidate is shown, as it was when the link was sent."""
    cycle = db.session.get(Cycle, nomination.cycle_id)
    institution = db.session.get(Institution, nomination.institution_id)
    assert cycle is not None and institution is not None  # foreign keys
    specialty = db.session.get(Specialty, nomination.specialty_id) \
        if nomination.specialty_id else None
    data: dict[str, Any] = {
        "reference": nomination.reference, "cycle": cycle.name,
        "institution": institution.name, "country": institution.country,
        "family_name": nomination.family_name, "given_names": nomination.given_names,
        "native_name": nomination.native_name,
        "date_of_birth": nomination.date_of_birth.isoformat()
        if nomination.date_of_birth else "",
        "position": nomination.position, "department": nomination.department,
        "specialty": specialty.name if specialty else "",
        "experience_years": nomination.experience_years,
        "training": f"{cycle.training_starts_on.isoformat()} – "
                    f"{cycle.training_ends_on.isoformat()}",
    }
    if kind == CONSENT:
        data.update({
            "sex": nomination.sex, "nationality": nomination.nationality,
            "passport_number": nomination.passport_number, "email": nomination.email,
            "phone": nomination.phone, "english_level": nomination.english_level,
            "english_evidence": nomination.english_evidence,
            "consent_text": cycle.consent_text,
        })
    return data


def request(nomination: Nomination, kind: str, actor: User | None) -> Confirmation:
    """Send a new one-time link (an earlier unanswered one stops counting: only the
    latest request of each kind can be answered)."""
    if kind not in KINDS:
        raise ValueError(kind)
    if not nomination.editable:
        raise ConfirmationError(_l("This nomination can no longer be changed."))
    institution = db.session.get(Institution, nomination.institution_id)
    assert institution is not None  # a foreign key
    if kind == ENDORSEMENT:
        email, name = institution.head_email, institution.head_name
        if not email:
            raise ConfirmationError(_l("Program staff hold no e-mail address for the head "
                                       "of your institution. Please contact them."))
    else:
        email, name = nomination.email, nomination.candidate_name
        if not email:
            raise ConfirmationError(_l("Enter the candidate's e-mail address first."))
        if not nomination.family_name:
            raise ConfirmationError(_l("Enter the candidate's name first."))
    confirmation = Confirmation(
        nomination_id=nomination.id, kind=kind, email=email,
        requested_by_id=actor.id if actor is not None else None,
        snapshot=snapshot(nomination, kind))
    db.session.add(confirmation)
    db.session.flush()
    days = lifetime()
    secret = tokens.issue(PURPOSES[kind], lifetime=days,
                          payload={"confirmation_id": confirmation.id})
    endpoint = "nominations.endorse" if kind == ENDORSEMENT else "nominations.consent"
    queue_mail(
        email, f"nomination_{kind}_request",
        subject=_l("Please endorse the nomination of %(name)s", name=nomination.candidate_name)
        if kind == ENDORSEMENT else
        _l("Please confirm your data for the medical training program"),
        language=None, name=name, nomination=nomination, institution=institution,
        requester=actor.name if actor is not None else "",
        link=external_url(endpoint, secret=secret), days=days.days,
    )
    log_event(nomination, actor, f"{kind}_requested", comment=email)
    record(f"nomination.{kind}_requested", actor=actor, object_type="nomination",
           object_id=nomination.id, details={"email": email})
    return confirmation


def _confirmation_for(token: tokens.OneTimeToken | None, kind: str) -> Confirmation | None:
    if token is None:
        return None
    confirmation = db.session.get(Confirmation, token.payload.get("confirmation_id"))
    if confirmation is None or confirmation.kind != kind:
        return None
    return confirmation


def _answerable(confirmation: Confirmation) -> tuple[Nomination | None, Any]:
    """(nomination, None) when the link may be answered, else (None, why not)."""
    nomination = db.session.get(Nomination, confirmation.nomination_id)
    if nomination is None or nomination.state in NOMINATION.targets("withdraw"):
        return None, _l("This nomination was withdrawn; nothing needs to be done.")
    newest = getattr(status(nomination), confirmation.kind)
    if newest is None or newest.id != confirmation.id:
        return None, _l("A newer link was sent for this nomination. Please use the "
                        "latest e-mail.")
    return nomination, None


def open_link(kind: str, secret: str) -> tuple[Confirmation | None, Any]:
    """The confirmation behind a link, or (None, reason) when it cannot be answered."""
    confirmation = _confirmation_for(tokens.peek(PURPOSES[kind], secret), kind)
    if confirmation is None:
        return None, GONE
    nomination, reason = _answerable(confirmation)
    return (confirmation, None) if nomination is not None else (None, reason)


def decide(kind: str, secret: str, decision: str, comment: str, ip: str | None,
           ) -> Confirmation:
    """Record the answer; the token is used up whether it was yes or no.

    Everything is checked before anything changes, so a refused answer leaves the link
    as it was (the page shows the form again, or says why the link is closed).
    """
    if decision not in DECISIONS[kind]:
        raise ConfirmationError(_l("Please choose one of the answers."))
    comment = (comment or "").strip()
    if decision != GRANTED and not comment:
        raise ConfirmationError(_l("Please tell the institution why, or what to correct."))
    confirmation = _confirmation_for(tokens.peek(PURPOSES[kind], secret), kind)
    if confirmation is None:
        raise ConfirmationError(GONE, code="gone")
    nomination, reason = _answerable(confirmation)
    if nomination is None:
        raise ConfirmationError(reason, code="gone")
    if tokens.consume(PURPOSES[kind], secret) is None:  # answered at the same moment
        raise ConfirmationError(GONE, code="gone")
    confirmation.decision = decision
    confirmation.decided_at = utcnow()
    confirmation.decided_ip = ip
    confirmation.comment = comment
    log_event(nomination, None, f"{kind}_{decision}", comment=comment,
              actor_label=confirmation.email)
    record(f"nomination.{kind}_{decision}", actor=None, actor_label=confirmation.email,
           object_type="nomination", object_id=nomination.id,
           details={"confirmation_id": confirmation.id, "ip": ip})
    notify_answered(nomination, kind, decision, comment)
    return confirmation
