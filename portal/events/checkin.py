"""At the door: admitting pass holders once, recording walk-ins (see checkin_routes.py).

A check-in is a conditional UPDATE (`... WHERE checked_in_at IS NULL`), so two phones
scanning the same pass at once admit it once; the second is told who and when.
"""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from portal.db import utcnow
from portal.events.labels import status_label
from portal.events.models import Event, Registration, RegSource, RegStatus
from portal.events.policy import ACTIVE_STATUSES
from portal.events.registration import (
    AlreadyCheckedIn,
    NotOnList,
    RegistrationError,
    new_pass_code,
    normalize_code,
)
from portal.extensions import db


def _with_people(registration_id: int) -> Registration:
    return db.session.scalars(
        select(Registration)
        .options(joinedload(Registration.alumnus), joinedload(Registration.checked_in_by))
        .where(Registration.id == registration_id)
        .execution_options(populate_existing=True)).one()


def check_in(event: Event, code: str, staff_id: int) -> Registration:
    """Admit the holder of a pass once; a second scan is refused with who and when."""
    code = normalize_code(code)
    registration = db.session.scalars(select(Registration).where(
        Registration.pass_code == code, Registration.event_id == event.id)).first() \
        if code else None
    if registration is None:
        raise NotOnList()
    return _admit(registration, staff_id)


def _admit(registration: Registration, staff_id: int) -> Registration:
    if registration.checked_in_at is not None:
        raise AlreadyCheckedIn(_with_people(registration.id))
    if registration.status != RegStatus.REGISTERED:
        raise RegistrationError(_l("Not admitted: this registration is %(status)s.",
                                   status=status_label(registration.status)))
    changed = db.session.execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.status == RegStatus.REGISTERED,
               Registration.checked_in_at.is_(None))
        .values(checked_in_at=utcnow(), checked_in_by_id=staff_id)
        .execution_options(synchronize_session=False)).rowcount
    registration = _with_people(registration.id)
    if changed != 1:
        raise AlreadyCheckedIn(registration)
    return registration


def record_walk_in(event: Event, *, name: str, email: str, institution: str,
                   staff_id: int) -> Registration:
    """Someone who came without a pass. A guest registration with the same e-mail is
    checked in instead of creating a second one."""
    email = (email or "").strip().lower()
    existing = db.session.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.guest_email == email)).first()
    if existing is not None and (existing.checked_in_at is not None
                                 or existing.status == RegStatus.REGISTERED):
        return _admit(existing, staff_id)
    now = utcnow()
    if existing is None:
        existing = Registration(event_id=event.id, guest_email=email, source=RegSource.WALK_IN,
                                pass_code=new_pass_code())
        db.session.add(existing)
    elif existing.status in ACTIVE_STATUSES:
        # A waitlisted or unconfirmed guest who came anyway leaves the line.
        existing.waitlist_position = None
    existing.status = RegStatus.WALK_IN
    existing.guest_salt = existing.guest_salt or secrets.token_hex(8)  # for the certificate
    existing.guest_name = name.strip()
    existing.guest_institution = institution.strip()
    existing.checked_in_at = now
    existing.checked_in_by_id = staff_id
    db.session.flush()
    return _with_people(existing.id)
