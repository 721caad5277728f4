"""A cycle's reviewer pool: people with the reviewer role, each with the specialties
they review (from the cycle's), a load limit (empty: the cycle's default), an affiliation
(a portal institution, or a free-text name and country) and the languages they read.

Staff add people who already have the reviewer role, or invite a new person through the
accounts' invitation flow (which grants the role). A member taken out of the pool
(deactivated) no longer opens any dossier of the cycle (portal.review.policy); their
assignments and reviews stay, and adding them back restores access. Every change of the
pool refreshes the automatic conflicts of the people it concerns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select
from sqlalchemy.exc import IntegrityError

from portal.accounts import services as accounts
from portal.accounts.models import Role, User, UserRole
from portal.audit.services import record
from portal.cycles.models import Cycle
from portal.errors import Conflict as ConflictError
from portal.errors import Refused
from portal.extensions import db
from portal.institutions.models import Institution, InstitutionStatus
from portal.nominations.models import Nomination
from portal.review import conflicts
from portal.review.models import (
    Assignment,
    AssignmentStatus,
    Conflict,
    ConflictStatus,
    PoolMember,
    Review,
    ReviewStatus,
)
from portal.review.policy import REVIEWED_STATES

MAX_LOAD = 1000
SEARCH_LIMIT = 20
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class PoolError(Refused):
    """A refused change of the pool; the message is shown to staff."""


@dataclass(frozen=True)
class MemberRow:
    member: PoolMember
    user: User
    institution: Institution | None
    assigned: int  # active assignments to dossiers under review
    submitted: int
    conflicts: int  # blocking conflicts


def pool_rows(cycle: Cycle) -> list[MemberRow]:
    """The pool, active members first, by name (three queries, whatever its size)."""
    rows = db.session.execute(
        select(PoolMember, User, Institution).join(User, User.id == PoolMember.user_id)
        .outerjoin(Institution, Institution.id == PoolMember.institution_id)
        .where(PoolMember.cycle_id == cycle.id)
        .order_by(PoolMember.active.desc(), User.name, User.id)).all()
    work = {reviewer_id: (int(assigned or 0), int(submitted or 0))
            for reviewer_id, assigned, submitted in db.session.execute(
                select(Assignment.reviewer_id, func.count(),
                       func.sum(case((Review.status == ReviewStatus.SUBMITTED, 1), else_=0)))
                .join(Nomination, Nomination.id == Assignment.nomination_id)
                .outerjoin(Review, Review.assignment_id == Assignment.id)
                .where(Assignment.cycle_id == cycle.id,
                       Assignment.status == AssignmentStatus.ACTIVE,
                       Nomination.state.in_(REVIEWED_STATES))
                .group_by(Assignment.reviewer_id)).all()}
    blocking = dict(db.session.execute(
        select(Conflict.reviewer_id, func.count()).where(
            Conflict.cycle_id == cycle.id, Conflict.status != ConflictStatus.DISMISSED)
        .group_by(Conflict.reviewer_id)).tuples().all())
    return [MemberRow(m, u, i, *work.get(u.id, (0, 0)), int(blocking.get(u.id, 0)))
            for m, u, i in rows]


def load_limit(member: PoolMember, default_load: int) -> int:
    return member.load_limit if member.load_limit is not None else default_load


def candidates(cycle: Cycle, q: str) -> list[User]:
    """Active people with the reviewer role who are not in the pool yet, matching `q`
    (name or e-mail), at most SEARCH_LIMIT."""
    q = (q or "").strip().lower()[:100]
    in_pool = select(PoolMember.user_id).where(PoolMember.cycle_id == cycle.id)
    query = (select(User).join(UserRole, UserRole.user_id == User.id)
             .where(UserRole.role == str(Role.REVIEWER), User.active.is_(True),
                    User.id.not_in(in_pool))
             .order_by(User.name, User.id).limit(SEARCH_LIMIT))
    if q:
        like = f"%{q}%"
        query = query.where(or_(func.lower(User.name).like(like), User.email.like(like)))
    return list(db.session.scalars(query))


def add_member(cycle: Cycle, user: User, actor: User | None) -> PoolMember:
    """Put a person with the reviewer role in the pool (or back in it)."""
    if not user.has_role(Role.REVIEWER):
        raise PoolError(_l("Only people with the reviewer role can join the pool. Give "
                           "them the role on the People page, or invite them here."))
    if not user.active:
        raise PoolError(_l("This account is deactivated."))
    member = conflicts.pool_member(cycle.id, user.id)
    if member is not None and member.active:
        raise ConflictError(_l("%(name)s is already in the pool.", name=user.name),
                            code="already_done")
    if member is None:
        member = PoolMember(cycle_id=cycle.id, user_id=user.id, specialties=[],
                            languages=[user.language] if user.language else [],
                            affiliation_name="", affiliation_country="",
                            institution_id=user.institution_id)
        try:
            with db.session.begin_nested():  # another staff member adding them at once
                db.session.add(member)
        except IntegrityError:
            raise ConflictError(_l("%(name)s is already in the pool.", name=user.name),
                                code="already_done") from None
    else:
        member.active = True
        db.session.flush()
    record("review.pool_added", actor=actor, object_type="cycle", object_id=cycle.id,
           details={"reviewer": user.id, "email": user.email})
    conflicts.refresh_automatic(cycle, [user.id])
    return member


def invite_member(cycle: Cycle, *, email: str, name: str, language: str,
                  actor: User) -> PoolMember:
    """Invite a person (a new account, or the reviewer role for an existing one) through
    the accounts' invitation flow, and put them in the pool."""
    email = accounts.normalize_email(email)
    if not email or "@" not in email or not name.strip():
        raise PoolError(_l("Give the person's name and e-mail address."))
    user = accounts.invite(email=email, name=name, roles=[Role.REVIEWER], inviter=actor,
                           language=language if language in ("en", "ja") else "en")
    return add_member(cycle, user, actor)


def parse_languages(text: str) -> list[str]:
    """Language codes typed as "en, ja, vi"; refused when one is not a language."""
    codes: list[str] = []
    for part in re.split(r"[\s,;]+", (text or "").strip().lower()):
        if not part:
            continue
        if not _LANGUAGE.match(part):
            raise PoolError(_l("Write languages as codes, e.g. “en, ja, vi”."))
        try:
            Locale.parse(part)
        except (UnknownLocaleError, ValueError):
            raise PoolError(_l("Unknown language code: %(code)s", code=part)) from None
        if part not in codes:
            codes.append(part)
    return codes


def language_name(code: str, locale: str = "en") -> str:
    try:
        return Locale.parse(code).get_display_name(locale) or code
    except (UnknownLocaleError, ValueError):
        return code


MEMBER_FIELDS = ("specialties", "load_limit", "institution_id", "affiliation_name",
                 "affiliation_country", "languages")


def update_member(cycle: Cycle, member: PoolMember, values: Mapping[str, object],
                  actor: User | None) -> list[str]:
    """Save a member's specialties, load limit, affiliation and languages; returns what
    changed. A changed affiliation refreshes the member's automatic conflicts."""
    offered = [s.code for s in cycle.specialties]
    raw = values.get("specialties")
    specialties = [str(s) for s in raw] if isinstance(raw, (list, tuple)) else []
    if set(specialties) - set(offered):
        raise PoolError(_l("Choose specialties the cycle offers."))
    limit = values.get("load_limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)
                              or not 0 <= limit <= MAX_LOAD):
        raise PoolError(_l("The load limit is a whole number from 0 to 1000, or empty for "
                           "the cycle's default."))
    institution_id = values.get("institution_id")
    if institution_id is not None and (not isinstance(institution_id, int) or db.session.get(
            Institution, institution_id) is None):
        raise PoolError(_l("Choose an institution from the list."))
    country = str(values.get("affiliation_country") or "").strip().upper()
    if country and (len(country) != 2 or not country.isalpha()):
        raise PoolError(_l("Choose a country from the list."))
    raw_languages = values.get("languages")
    languages = [str(x) for x in raw_languages] if isinstance(raw_languages, list) else []
    wanted: dict[str, object] = {
        "specialties": [s for s in offered if s in specialties],
        "load_limit": limit, "institution_id": institution_id,
        "affiliation_name": " ".join(str(values.get("affiliation_name") or "").split())[:200],
        "affiliation_country": country, "languages": languages,
    }
    changed = [name for name, value in wanted.items() if getattr(member, name) != value]
    for name in changed:
        setattr(member, name, wanted[name])
    if changed:
        db.session.flush()
        record("review.pool_member_changed", actor=actor, object_type="cycle",
               object_id=cycle.id, details={"reviewer": member.user_id, "changed": changed})
        if {"institution_id", "affiliation_name", "affiliation_country"} & set(changed):
            conflicts.refresh_automatic(cycle, [member.user_id])
    return changed


def set_active(cycle: Cycle, member: PoolMember, active: bool, actor: User | None) -> None:
    """Take a member out of the pool (they open no dossier of the cycle) or back in."""
    if member.active == active:
        raise ConflictError(_l("This is already done."), code="already_done")
    member.active = active
    db.session.flush()
    record("review.pool_reactivated" if active else "review.pool_deactivated", actor=actor,
           object_type="cycle", object_id=cycle.id, details={"reviewer": member.user_id})
    if active:
        conflicts.refresh_automatic(cycle, [member.user_id])


def member_of_cycle(cycle: Cycle, member_id: int) -> PoolMember | None:
    member = db.session.get(PoolMember, member_id)
    return member if member is not None and member.cycle_id == cycle.id else None


def institution_choices() -> list[tuple[int, str]]:
    """Every active portal institution (the affiliation's choice), by country and name."""
    return [(i.id, f"{i.name} ({i.country})") for i in db.session.scalars(
        select(Institution).where(Institution.status == InstitutionStatus.ACTIVE)
        .order_by(Institution.country, Institution.name))]
