"""Endorsement by the head of the institution and consent of the candidate.

Both go through a one-time link (portal.tokens) to a person without an account.
The link shows a summary frozen when it was sent (`snapshot`); the answer is recorded
with time and IP, once: the token is consumed atomically.

A confirmation holds only for the facts it confirmed (CONFIRMED_FIELDS: the candidate's
identity, passport, nationality, date of birth and e-mail; for the endorsement also
specialty and position). Changing one voids the latest confirmation of each kind that
confirmed it, granted or still waiting (`void_changed`, called by the service that
saves the facts): the panel and the history say which change did it, submission waits
for a new confirmation, and the candidate is told by mail (at the old address when the
e-mail changed). A link whose summary no longer matches the nomination cannot be
answered. Requests are limited per nomination and kind (CONFIRM_REQUESTS_PER_DAY).
Request and answer record where they came from (portal.nominations.origin) so staff can
see when the nominator answered their own link.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select

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
from portal.nominations.labels import field_label
from portal.nominations.lifecycle import NOMINATION
from portal.nominations.mails import notify_answered, notify_candidate_of_changes
from portal.nominations.models import Confirmation, Nomination
from portal.nominations.origin import Origin
from portal.notify.services import queue_mail

ENDORSEMENT = "endorsement"
CONSENT = "consent"
KINDS = (ENDORSEMENT, CONSENT)
PURPOSES = {ENDORSEMENT: "nomination-endorse", CONSENT: "nomination-consent"}

GRANTED = "granted"
DECLINED = "declined"
CORRECTION = "correction_requested"
DECISIONS = {ENDORSEMENT: (GRANTED, DECLINED), CONSENT: (GRANTED, CORRECTION)}

# The facts each kind confirms (Nomination columns, in the order they are named).
IDENTITY_FACTS = ("family_name", "given_names", "native_name", "passport_number",
                  "nationality", "date_of_birth", "email")
CONFIRMED_FIELDS: dict[str, tuple[str, ...]] = {
    CONSENT: IDENTITY_FACTS,
    ENDORSEMENT: (*IDENTITY_FACTS, "specialty_id", "position"),
}
# Where the snapshot shows a fact under another key (older links have only these).
_SNAPSHOT_KEYS = {"specialty_id": ("specialty_id", "specialty")}


class ConfirmationError(Refused):
    """A refused request or answer; its message is shown to the person (translated)."""


GONE = _l("This link is not valid any more. It may have been used already or have expired.")


def field_list(fields: Iterable[str]) -> str:
    """The labels of `fields`, in the current language, for a sentence."""
    return ", ".join(field_label(f) for f in fields)


def _changed_since(fields: list[str]) -> LazyString:
    return LazyString(lambda: gettext(
        "The details of this nomination changed after this link was sent (%(fields)s), "
        "so it can no longer be answered. The institution can send you a new link with "
        "the current details.", fields=field_list(fields)))


def lifetime() -> timedelta:
    """How long a link may be answered (CONFIRM_LINK_DAYS)."""
    return timedelta(days=int(current_app.config["CONFIRM_LINK_DAYS"]))


def counts(confirmation: Confirmation | None) -> bool:
    """A granted confirmation that no change has voided."""
    return confirmation is not None and confirmation.decision == GRANTED \
        and confirmation.voided_at is None


@dataclass
class Status:
    endorsement: Confirmation | None
    consent: Confirmation | None

    @property
    def endorsed(self) -> bool:
        return counts(self.endorsement)

    @property
    def consented(self) -> bool:
        return counts(self.consent)


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
        # Confirmed by both: the head endorses this person, passport and all.
        "nationality": nomination.nationality, "passport_number": nomination.passport_number,
        "email": nomination.email,
        "position": nomination.position, "department": nomination.department,
        "specialty": specialty.name if specialty else "",
        "specialty_id": nomination.specialty_id,
        "experience_years": nomination.experience_years,
        "training": f"{cycle.training_starts_on.isoformat()} – "
                    f"{cycle.training_ends_on.isoformat()}",
    }
    if kind == CONSENT:
        data.update({
            "sex": nomination.sex, "phone": nomination.phone,
            "english_level": nomination.english_level,
            "english_evidence": nomination.english_evidence,
            "consent_text": cycle.consent_text,
        })
    return data


def stale_fields(confirmation: Confirmation, nomination: Nomination) -> list[str]:
    """The confirmed facts whose value in the link's summary differs from the
    nomination's now (facts an older summary does not show are not compared)."""
    shown = confirmation.snapshot or {}
    now = snapshot(nomination, confirmation.kind)
    changed = []
    for name in CONFIRMED_FIELDS[confirmation.kind]:
        key = next((k for k in _SNAPSHOT_KEYS.get(name, (name,)) if k in shown), None)
        if key is not None and shown[key] != now.get(key):
            changed.append(name)
    return changed


def void_changed(nomination: Nomination, changed: Iterable[str], before: dict[str, Any],
                 actor: User | None) -> list[Confirmation]:
    """Void the latest confirmation of each kind (granted, or a link still waiting) that
    confirmed one of the `changed` facts; `before` holds their old values. The history
    and the audit log say which change did it; the candidate is mailed (at the old
    address when the e-mail changed). Returns the voided rows."""
    changed = set(changed)
    if not changed & set(CONFIRMED_FIELDS[ENDORSEMENT]):
        return []
    current = status(nomination)
    voided: list[Confirmation] = []
    now = utcnow()
    for kind in KINDS:
        row: Confirmation | None = getattr(current, kind)
        fields = [f for f in CONFIRMED_FIELDS[kind] if f in changed]
        if row is None or not fields or row.voided_at is not None \
                or row.decision not in (GRANTED, None):
            continue
        row.voided_at, row.voided_fields = now, fields
        log_event(nomination, actor, f"{kind}_voided", comment=field_list(fields))
        record(f"nomination.{kind}_voided", actor=actor, object_type="nomination",
               object_id=nomination.id,
               details={"confirmation_id": row.id, "fields": fields,
                        "decision": row.decision})
        voided.append(row)
    if voided:
        old_email = str(before.get("email") or "") if "email" in changed else nomination.email
        addresses = [old_email] + [r.email for r in voided if r.kind == CONSENT]
        fields = [f for f in CONFIRMED_FIELDS[ENDORSEMENT] if f in changed]
        notify_candidate_of_changes(nomination, addresses, fields)
    return voided


def requests_per_day() -> int:
    """Links of one kind a nomination may send in 24 hours (CONFIRM_REQUESTS_PER_DAY)."""
    return int(current_app.config["CONFIRM_REQUESTS_PER_DAY"])


def _check_request_limit(nomination: Nomination, kind: str) -> None:
    """Refuse a request over the per-nomination limit, counted under the nomination's row
    lock (PostgreSQL; SQLite writers are serialized already) so two at once cannot both
    pass."""
    db.session.execute(select(Nomination.id).where(Nomination.id == nomination.id)
                       .with_for_update())
    limit = requests_per_day()
    sent = db.session.scalar(select(func.count(Confirmation.id)).where(
        Confirmation.nomination_id == nomination.id, Confirmation.kind == kind,
        Confirmation.requested_at > utcnow() - timedelta(hours=24))) or 0
    if sent >= limit:
        raise ConfirmationError(_l(
            "A link of this kind was sent %(n)d times for this nomination in the last 24 "
            "hours, the most allowed. Please try again later.", n=limit),
            status=429, code="too_many")


def request(nomination: Nomination, kind: str, actor: User | None,
            origin: Origin | None = None) -> Confirmation:
    """Send a new one-time link (an earlier unanswered one stops counting: only the
    latest request of each kind can be answered). `origin` is the nominator's network
    address and browser session, kept for staff (portal.nominations.origin)."""
    if kind not in KINDS:
        raise ValueError(kind)
    if not nomination.editable:
        raise ConfirmationError(_l("This nomination can no longer be changed."))
    origin = origin or Origin()
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
    _check_request_limit(nomination, kind)
    confirmation = Confirmation(
        nomination_id=nomination.id, kind=kind, email=email,
        requested_by_id=actor.id if actor is not None else None,
        snapshot=snapshot(nomination, kind), requested_ip=origin.ip,
        requested_session=origin.session)
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
    if confirmation.voided_at is not None:
        return None, _changed_since(list(confirmation.voided_fields or []))
    if stale := stale_fields(confirmation, nomination):
        return None, _changed_since(stale)
    return nomination, None


def open_link(kind: str, secret: str) -> tuple[Confirmation | None, Any]:
    """The confirmation behind a link, or (None, reason) when it cannot be answered."""
    confirmation = _confirmation_for(tokens.peek(PURPOSES[kind], secret), kind)
    if confirmation is None:
        return None, GONE
    nomination, reason = _answerable(confirmation)
    return (confirmation, None) if nomination is not None else (None, reason)


def decide(kind: str, secret: str, decision: str, comment: str, origin: Origin,
           ) -> Confirmation:
    """Record the answer; the token is used up whether it was yes or no.

    Everything is checked before anything changes, so a refused answer leaves the link
    as it was (the page shows the form again, or says why the link is closed). A link
    whose summary no longer matches the nomination's confirmed facts is refused.
    """
    ip = origin.ip
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
    confirmation.decided_session = origin.session
    confirmation.comment = comment
    log_event(nomination, None, f"{kind}_{decision}", comment=comment,
              actor_label=confirmation.email)
    record(f"nomination.{kind}_{decision}", actor=None, actor_label=confirmation.email,
           object_type="nomination", object_id=nomination.id,
           details={"confirmation_id": confirmation.id, "ip": ip})
    notify_answered(nomination, kind, decision, comment)
    return confirmation
