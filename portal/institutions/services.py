"""Institutions: creation by staff, requests for access, approval."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.audit.services import record
from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution, InstitutionStatus
from portal.notify.services import queue_mail

FIELDS = ("name", "country", "city", "timezone", "kind", "head_name", "head_email")


def apply_fields(institution: Institution, data: dict) -> dict:
    """Copy form fields; return what changed (for the audit log)."""
    changed = {}
    for field in FIELDS:
        value = data[field].strip() if isinstance(data[field], str) else data[field]
        if field == "head_email":
            value = value.lower()
        if getattr(institution, field) != value:
            changed[field] = value
            setattr(institution, field, value)
    return changed


def create(data: dict, actor: User) -> Institution:
    institution = Institution(status=InstitutionStatus.ACTIVE)
    apply_fields(institution, data)
    db.session.add(institution)
    db.session.flush()
    record("institution.created", actor=actor, object_type="institution",
           object_id=institution.id, details={"name": institution.name})
    return institution


def update(institution: Institution, data: dict, actor: User) -> None:
    changed = apply_fields(institution, data)
    if changed:
        record("institution.changed", actor=actor, object_type="institution",
               object_id=institution.id, details=changed)


def request_access(data: dict, language: str) -> Institution:
    institution = Institution(
        status=InstitutionStatus.REQUESTED,
        contact_name=data["contact_name"].strip(),
        contact_position=data["contact_position"].strip(),
        contact_email=accounts.normalize_email(data["contact_email"]),
        request_message=(data.get("message") or "").strip() or None,
    )
    apply_fields(institution, data)
    db.session.add(institution)
    db.session.flush()
    record("institution.access_requested", actor_label=institution.contact_email,
           object_type="institution", object_id=institution.id,
           details={"name": institution.name, "language": language})
    queue_mail(institution.contact_email, "access_request_received",
               subject=_l("We received your request for access"), language=language,
               institution=institution)
    return institution


class AlreadyDecided(Exception):
    pass


def approve(institution: Institution, actor: User, language: str = "en") -> User:
    """Activate the institution and invite the person who asked as its first nominator."""
    if institution.status != InstitutionStatus.REQUESTED:
        raise AlreadyDecided
    institution.status = InstitutionStatus.ACTIVE
    institution.decided_at = utcnow()
    institution.decided_by_id = actor.id
    record("institution.approved", actor=actor, object_type="institution",
           object_id=institution.id, details={"name": institution.name})
    return accounts.invite(
        email=institution.contact_email, name=institution.contact_name,
        roles=[Role.NOMINATOR], inviter=actor, institution_id=institution.id,
        language=language,
    )


def decline(institution: Institution, reason: str, actor: User, language: str = "en") -> None:
    if institution.status != InstitutionStatus.REQUESTED:
        raise AlreadyDecided
    institution.status = InstitutionStatus.DECLINED
    institution.decided_at = utcnow()
    institution.decided_by_id = actor.id
    institution.decline_reason = reason.strip()
    record("institution.declined", actor=actor, object_type="institution",
           object_id=institution.id, details={"name": institution.name})
    queue_mail(institution.contact_email, "access_request_declined",
               subject=_l("Your request for access"), language=language,
               institution=institution, reason=institution.decline_reason)
