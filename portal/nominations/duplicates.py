"""Possible duplicates: the same person twice in a cycle, and former participants.

Flags are stored on the nomination (`duplicate_flags`) when its identity changes, so
lists show them without matching anything at read time.

Who sees what (issue 12, point 8): staff see every flag. A nominator sees only matches
inside their own institution (its other nominations, in this cycle or earlier ones);
matches with other institutions' nominations and with the alumni records are for staff
only, and nothing a nominator sees depends on them: not the flags box, not the
eligibility rules of the checklist (`own_flags`), not the other nomination's "last
changed" time when its stored flags are brought up to date.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import Row, and_, func, or_, select, update

from portal.accounts.models import User
from portal.alumni.models import Alumnus
from portal.cycles.models import Cycle
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.models import Nomination, NominationState

IDENTITY_FIELDS = frozenset({"family_name", "given_names", "date_of_birth", "passport_number"})
# An earlier nomination in one of these states means the person trained with the program.
PARTICIPATED = frozenset({NominationState.ACCEPTED})


def norm_name(*parts: str) -> str:
    """Letters and digits only, accents removed, case folded: "Nguyễn  Văn-An" ==
    "NGUYEN VAN AN"."""
    text = unicodedata.normalize("NFKD", " ".join(p or "" for p in parts))
    return "".join(c for c in text.casefold() if c.isalnum())


def norm_passport(value: str | None) -> str:
    return "".join(c for c in (value or "").upper() if c.isalnum())


def _same_person(a_name: str, a_passport: str, other: Row[Any]) -> str | None:
    if a_passport and norm_passport(other.passport_number) == a_passport:
        return "passport"
    if a_name and norm_name(other.family_name, other.given_names) == a_name:
        return "name_dob"
    return None


def find(nomination: Nomination) -> list[dict[str, Any]]:
    """Every match of this nomination's candidate (computed, not stored)."""
    name = norm_name(nomination.family_name, nomination.given_names)
    passport = norm_passport(nomination.passport_number)
    dob = nomination.date_of_birth
    conditions = []
    if passport:
        conditions.append(Nomination.passport_number == passport)
    if dob is not None and nomination.family_name:
        conditions.append(and_(Nomination.date_of_birth == dob,
                               func.lower(Nomination.family_name)
                               == nomination.family_name.strip().lower()))
    flags: list[dict[str, Any]] = []
    if conditions:
        # Other cycles count only when earlier: a later nomination is not a prior one.
        opens = select(Cycle.opens_at).where(Cycle.id == nomination.cycle_id).scalar_subquery()
        rows = db.session.execute(
            select(Nomination.id, Nomination.reference, Nomination.cycle_id, Nomination.state,
                   Nomination.family_name, Nomination.given_names,
                   Nomination.passport_number, Nomination.institution_id,
                   Institution.name.label("institution"), Cycle.name.label("cycle"))
            .join(Institution, Institution.id == Nomination.institution_id)
            .join(Cycle, Cycle.id == Nomination.cycle_id)
            .where(Nomination.id != nomination.id, or_(*conditions),
                   Nomination.state != NominationState.WITHDRAWN,
                   or_(Nomination.cycle_id == nomination.cycle_id, Cycle.opens_at < opens))
            .order_by(Nomination.id)
        ).all()
        for row in rows:
            match = _same_person(name, passport, row)
            if match is None:
                continue
            if row.cycle_id == nomination.cycle_id:
                kind = "same_cycle"
            elif row.state in PARTICIPATED:
                kind = "prior_participant"
            else:
                kind = "prior_nomination"
            flags.append({
                "kind": kind, "match": match, "nomination_id": row.id,
                "reference": row.reference, "institution_id": row.institution_id,
                "institution": row.institution, "cycle": row.cycle, "state": row.state,
            })
    if dob is not None and nomination.family_name:
        alumni = db.session.execute(
            select(Alumnus.id, Alumnus.family_name, Alumnus.given_names, Alumnus.cycle_year,
                   Alumnus.specialty)
            .where(Alumnus.date_of_birth == dob, Alumnus.merged_into_id.is_(None),
                   func.lower(Alumnus.family_name) == nomination.family_name.strip().lower())
        ).all()
        for alumnus in alumni:
            if norm_name(alumnus.family_name, alumnus.given_names) == name:
                flags.append({"kind": "alumnus", "match": "name_dob",
                              "alumnus_id": alumnus.id, "year": alumnus.cycle_year,
                              "specialty": alumnus.specialty})
    return flags


def refresh(nomination: Nomination) -> None:
    """Recompute this nomination's flags and those of the same-cycle nominations it
    matched before or matches now (so both sides see the duplicate)."""
    before = {f["nomination_id"] for f in nomination.duplicate_flags or []
              if f.get("kind") == "same_cycle"}
    nomination.duplicate_flags = find(nomination)
    now = {f["nomination_id"] for f in nomination.duplicate_flags
           if f.get("kind") == "same_cycle"}
    affected = before | now
    if affected:
        db.session.flush()
        for other in db.session.scalars(select(Nomination).where(Nomination.id.in_(affected))):
            # A statement of its own, keeping `updated_at`: the other nomination's
            # institution must not see its nomination "changed" because someone else
            # typed a name or passport number.
            db.session.execute(
                update(Nomination).where(Nomination.id == other.id)
                .values(duplicate_flags=find(other), updated_at=Nomination.updated_at))


def own_flags(flags: list[dict[str, Any]], institution_id: int | None,
              ) -> list[dict[str, Any]]:
    """The flags about the institution's own nominations (the only ones its nominators
    may see or be affected by); alumni records and other institutions' nominations are
    left out."""
    return [f for f in flags
            if institution_id is not None and f.get("institution_id") == institution_id]


def visible_flags(flags: list[dict[str, Any]], user: User) -> list[dict[str, Any]]:
    """What a viewer may read: staff every flag; a nominator only those about their own
    institution's nominations (no notice that appears only when another institution or
    the alumni records match)."""
    if user.is_staff:
        return flags
    return own_flags(flags, user.institution_id)
