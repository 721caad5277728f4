"""Alumni records from a cycle's accepted nominations.

This reads nominations, so it lives in the intake area, above both the nominations and the
alumni areas (alumni sits below nominations and does not import it). The page keeps its
place among the alumni pages (`alumni.staff_from_cycle`, /admin/alumni/from-cycle): see
portal.intake.alumni_routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.alumni.models import Alumnus, name_key
from portal.alumni.services import AlumniError, specialty_code
from portal.audit.services import record
from portal.cycles.models import Cycle
from portal.extensions import db
from portal.nominations.models import Nomination, NominationState


@dataclass
class CycleResult:
    created: int = 0
    linked: int = 0  # an existing record (import, manual) now points at the nomination
    existing: int = 0  # done before


def cycle_choices() -> list[tuple[int, str]]:
    """Every cycle, newest first, with its number of accepted nominations."""
    accepted = (select(Nomination.cycle_id, func.count().label("n"))
                .where(Nomination.state == NominationState.ACCEPTED)
                .group_by(Nomination.cycle_id).subquery())
    rows = db.session.execute(
        select(Cycle.id, Cycle.name, Cycle.training_ends_on, func.coalesce(accepted.c.n, 0))
        .outerjoin(accepted, accepted.c.cycle_id == Cycle.id)
        .order_by(Cycle.training_starts_on.desc())).all()
    return [(cid, _("%(name)s — %(n)d accepted, training ends %(day)s", name=name, n=n,
                    day=ends.isoformat())) for cid, name, ends, n in rows]


def accepted_nominations(cycle_id: int) -> list[Nomination]:
    return list(db.session.scalars(
        select(Nomination)
        .options(joinedload(Nomination.institution), joinedload(Nomination.specialty),
                 joinedload(Nomination.cycle))
        .where(Nomination.cycle_id == cycle_id, Nomination.state == NominationState.ACCEPTED)
        .order_by(Nomination.id)))


def create_from_cycle(cycle: Cycle, actor: User | None, today: date | None = None
                      ) -> CycleResult:
    """Alumni records for the accepted trainees of a finished cycle; safe to repeat."""
    today = today or date.today()
    if cycle.training_ends_on > today:
        raise AlumniError(_l("Training of this cycle ends on %(day)s; its trainees become "
                             "alumni after that.", day=cycle.training_ends_on.isoformat()))
    nominations = accepted_nominations(cycle.id)
    year = cycle.training_starts_on.year
    done = set(db.session.scalars(select(Alumnus.nomination_id).where(
        Alumnus.nomination_id.in_([n.id for n in nominations]))))
    result = CycleResult()
    for nomination in nominations:
        if nomination.id in done:
            result.existing += 1
            continue
        existing = _same_person(nomination, year)
        if existing is not None and existing.nomination_id is None:
            existing.nomination_id = nomination.id
            result.linked += 1
            continue
        db.session.add(Alumnus(
            family_name=nomination.family_name, given_names=nomination.given_names,
            native_name=nomination.native_name, date_of_birth=nomination.date_of_birth,
            email=nomination.email, cycle_year=year,
            specialty=specialty_code(nomination.specialty.code if nomination.specialty else ""),
            country=nomination.country, institution_then=nomination.institution.name,
            institution_now=nomination.institution.name, position=nomination.position,
            source="cycle", nomination_id=nomination.id,
        ))
        result.created += 1
    db.session.flush()
    record("alumni.created_from_cycle", actor=actor, object_type="cycle", object_id=cycle.id,
           details={"created": result.created, "linked": result.linked,
                    "existing": result.existing})
    return result


def _same_person(nomination: Nomination, year: int) -> Alumnus | None:
    """A record of the same training made earlier by import or by hand."""
    query = select(Alumnus).where(Alumnus.merged_into_id.is_(None), Alumnus.cycle_year == year)
    email = (nomination.email or "").strip().lower()
    if email:
        found = db.session.scalars(query.where(Alumnus.email == email)).first()
        if found is not None:
            return found
    if nomination.date_of_birth:
        return db.session.scalars(query.where(
            Alumnus.name_key == name_key(nomination.family_name),
            Alumnus.date_of_birth == nomination.date_of_birth)).first()
    return None
