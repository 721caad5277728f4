"""Institutions: creation by staff, requests for access, approval."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from portal.accounts import services as accounts
from portal.accounts.models import Role, User, UserRole
from portal.audit.services import record
from portal.db import utcnow
from portal.errors import Conflict
from portal.extensions import db
from portal.i18n import register_institution_zone
from portal.institutions.models import Institution, InstitutionStatus
from portal.notify.services import queue_mail, recipient_allows

FIELDS = ("name", "country", "city", "timezone", "kind", "head_name", "head_email")
LIST_LIMIT = 500  # the staff list of institutions shows at most this many


def zone_of(institution_id: int) -> str | None:
    """The institution's time zone (a person without one of their own is shown it)."""
    return db.session.scalar(select(Institution.timezone).where(
        Institution.id == institution_id))


register_institution_zone(zone_of)


def choices() -> list[tuple[int, str]]:
    """Active institutions for a select box, "—" (none) first."""
    rows = db.session.execute(
        select(Institution.id, Institution.name, Institution.country)
        .where(Institution.status == InstitutionStatus.ACTIVE)
        .order_by(Institution.name)
    ).all()
    return [(0, "—")] + [(r.id, f"{r.name} ({r.country})") for r in rows]


def of_user(user: User) -> Institution | None:
    return db.session.get(Institution, user.institution_id) if user.institution_id else None


def listing(status: str, q: str) -> tuple[list[Institution], int]:
    """The staff list (filtered by status and a search of name and city) and how many
    requests wait for a decision."""
    query = select(Institution).order_by(Institution.country, Institution.name)
    if status in {str(s) for s in InstitutionStatus}:
        query = query.where(Institution.status == status)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(Institution.name).like(like),
                                func.lower(Institution.city).like(like)))
    institutions = list(db.session.scalars(query.limit(LIST_LIMIT)))
    pending = db.session.scalar(select(func.count(Institution.id)).where(
        Institution.status == InstitutionStatus.REQUESTED)) or 0
    return institutions, pending


def nominators(institution: Institution) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.institution_id == institution.id,
                           User.id.in_(select(UserRole.user_id)
                                       .where(UserRole.role == Role.NOMINATOR)))
        .order_by(User.name)))


def apply_fields(institution: Institution, data: Mapping[str, Any]) -> dict[str, Any]:
    """Copy form fields; return what changed (for the audit log)."""
    changed: dict[str, Any] = {}
    for field in FIELDS:
        value = data[field].strip() if isinstance(data[field], str) else data[field]
        if field == "head_email":
            value = value.lower()
        if getattr(institution, field) != value:
            changed[field] = value
            setattr(institution, field, value)
    return changed


def create(data: Mapping[str, Any], actor: User) -> Institution:
    institution = Institution(status=InstitutionStatus.ACTIVE)
    apply_fields(institution, data)
    db.session.add(institution)
    db.session.flush()
    record("institution.created", actor=actor, object_type="institution",
           object_id=institution.id, details={"name": institution.name})
    return institution


def update(institution: Institution, data: Mapping[str, Any], actor: User) -> None:
    changed = apply_fields(institution, data)
    if changed:
        record("institution.changed", actor=actor, object_type="institution",
               object_id=institution.id, details=changed)


def request_access(data: Mapping[str, Any], language: str) -> Institution:
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
    record("institution.access_requested", actor=None, actor_label=institution.contact_email,
           object_type="institution", object_id=institution.id,
           details={"name": institution.name, "language": language})
    # Anybody can type any address here: the mail says only the portal's own words, and
    # an address gets a few at most (the request itself still reaches staff).
    if recipient_allows("access-request", institution.contact_email or "",
                        current_app.config["ACCESS_REQUEST_MAIL_LIMIT"]):
        queue_mail(institution.contact_email or "", "access_request_received",
                   subject=_l("We received your request for access"), language=language)
    return institution


class AlreadyDecided(Conflict):
    """Someone decided the request first (409)."""

    default_message = _l("This request was already decided.")


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
        email=institution.contact_email or "", name=institution.contact_name or "",
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
    queue_mail(institution.contact_email or "", "access_request_declined",
               subject=_l("Your request for access"), language=language,
               reason=institution.decline_reason)
