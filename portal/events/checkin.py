"""At the door: admitting pass holders once, recording walk-ins (see checkin_routes.py).

A check-in is a conditional UPDATE (`... WHERE status IN <check_in sources> AND
checked_in_at IS NULL`), so two phones scanning the same pass at once admit it once; the
second is told who and when. A walk-in is the same kind of UPDATE (or a new row, under the
UNIQUE (event, e-mail) constraint).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.db import utcnow
from portal.events.codes import new_guest_salt, new_pass_code, normalize_code
from portal.events.errors import AlreadyCheckedIn, NotOnList, RegistrationError
from portal.events.labels import status_label
from portal.events.lifecycle import ADMISSIBLE_STATES, NEW, REGISTRATION
from portal.events.models import Event, Registration, RegSource
from portal.events.queries import rows_changed
from portal.events.registration import check_move
from portal.extensions import db
from portal.lifecycle import STAFF

RECENT = 8  # check-ins shown under the form


def _with_people(registration_id: int) -> Registration:
    return db.session.scalars(
        select(Registration)
        .options(joinedload(Registration.alumnus), joinedload(Registration.checked_in_by))
        .where(Registration.id == registration_id)
        .execution_options(populate_existing=True)).one()


def recent(event_id: int) -> tuple[list[Registration], int]:
    """The last people admitted, and how many in all."""
    rows = db.session.scalars(
        select(Registration).options(joinedload(Registration.alumnus))
        .where(Registration.event_id == event_id, Registration.checked_in_at.is_not(None))
        .order_by(Registration.checked_in_at.desc()).limit(RECENT)).all()
    total = db.session.scalar(select(func.count(Registration.id)).where(
        Registration.event_id == event_id, Registration.checked_in_at.is_not(None))) or 0
    return list(rows), total


def check_in(event: Event, code: str | None, actor: User, *,
             acting_as: str = STAFF) -> Registration:
    """Admit the holder of a pass once; a second scan is refused with who and when."""
    code = normalize_code(code)
    registration = db.session.scalars(select(Registration).where(
        Registration.pass_code == code, Registration.event_id == event.id)).first() \
        if code else None
    if registration is None:
        raise NotOnList()
    return _admit(registration, actor, acting_as)


def _not_admitted(status: str) -> RegistrationError:
    return RegistrationError(_l("Not admitted: this registration is %(status)s.",
                                status=status_label(status)))


def _admit(registration: Registration, actor: User, acting_as: str) -> Registration:
    if registration.checked_in_at is not None:
        raise AlreadyCheckedIn(_with_people(registration.id))
    status = registration.status
    move = check_move(status, "check_in", acting_as, lambda: _not_admitted(status))
    changed = rows_changed(
        update(Registration)
        .where(Registration.id == registration.id,
               Registration.status.in_(REGISTRATION.sources(move.name, acting_as)),
               Registration.checked_in_at.is_(None))
        .values(status=move.target, checked_in_at=utcnow(), checked_in_by_id=actor.id))
    registration = _with_people(registration.id)
    if changed != 1:
        raise AlreadyCheckedIn(registration)
    return registration


def record_walk_in(event: Event, *, name: str, email: str, institution: str, actor: User,
                   acting_as: str = STAFF) -> Registration:
    """Someone who came without a pass. A guest registration with the same e-mail is
    checked in instead of creating a second one (a pass holder's: admitted as such)."""
    email = (email or "").strip().lower()
    existing = db.session.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.guest_email == email)).first()
    if existing is not None and (existing.checked_in_at is not None
                                 or existing.status in ADMISSIBLE_STATES):
        return _admit(existing, actor, acting_as)
    state = existing.status if existing is not None else NEW
    move = check_move(state, "walk_in", acting_as, RegistrationError)
    values = {"status": move.target, "guest_name": name.strip(),
              "guest_institution": institution.strip(), "checked_in_at": utcnow(),
              "checked_in_by_id": actor.id, "waitlist_position": None}
    if existing is None:
        row = Registration(event_id=event.id, guest_email=email, source=RegSource.WALK_IN,
                           pass_code=new_pass_code(), guest_salt=new_guest_salt(), **values)
        try:
            with db.session.begin_nested():  # the page is shown after a refusal: keep
                db.session.add(row)          # the session usable
        except IntegrityError as exc:  # the same person recorded at another door
            raise RegistrationError(_l("This person was recorded at the same moment "
                                       "elsewhere. Please check the list.")) from exc
        return _with_people(row.id)
    # A waitlisted or unconfirmed guest who came anyway leaves the line; the salt gives
    # them a personal page for the certificate.
    changed = rows_changed(
        update(Registration)
        .where(Registration.id == existing.id,
               Registration.status.in_(REGISTRATION.sources(move.name, acting_as)),
               Registration.checked_in_at.is_(None))
        .values(guest_salt=func.coalesce(Registration.guest_salt, new_guest_salt()),
                **values))
    if changed != 1:
        raise AlreadyCheckedIn(_with_people(existing.id))
    return _with_people(existing.id)
