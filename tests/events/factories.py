"""Test data of the events area: alumni records for accounts, events, registrations."""

from __future__ import annotations

import itertools
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from portal.accounts.models import Role, User, UserRole
from portal.alumni.models import Alumnus
from portal.alumni.services import alumnus_for_user
from portal.db import utcnow
from portal.events.codes import new_pass_code
from portal.events.models import Event, EventMode, EventStatus, Registration, RegSource
from portal.extensions import db

_seq = itertools.count(1)


def record_for(user: User, **kw: Any) -> Alumnus:
    """The alumni record of an account (created if the account has none)."""
    existing = alumnus_for_user(user)
    if existing is not None:
        for name, value in kw.items():
            setattr(existing, name, value)
        db.session.commit()
        return existing
    n = next(_seq)
    values: dict[str, Any] = {"family_name": f"Family{n}", "given_names": f"Given{n}",
                              "country": "TH", "specialty": "cardiology", "cycle_year": 2015,
                              "timezone": "Asia/Bangkok", "email": user.email}
    values.update(kw)
    record = Alumnus(user_id=user.id, **values)
    db.session.add(record)
    db.session.commit()
    return record


def alumnus(factory: Any, **kw: Any) -> tuple[User, Alumnus]:
    """An account with the alumnus role and its record."""
    user_kw = {k: kw.pop(k) for k in ("email", "name", "language", "timezone") if k in kw}
    user = factory.alumnus(**user_kw)
    return user, record_for(user, **kw)


def many_alumni(n: int, country: str = "TH") -> list[int]:
    """n accounts with records, inserted in bulk (no password: they never sign in)."""
    tag = secrets.token_hex(3)
    users = [{"email": f"bulk{tag}-{i}@alumni.example.org", "name": f"Bulk {i}",
              "language": "en", "active": True, "session_token": secrets.token_urlsafe(12),
              "created_at": utcnow()} for i in range(n)]
    ids = list(db.session.scalars(
        insert(User).returning(User.id, sort_by_parameter_order=True), users))
    db.session.execute(insert(UserRole), [{"user_id": u, "role": str(Role.ALUMNUS),
                                           "granted_at": utcnow()} for u in ids])
    alumni = list(db.session.scalars(
        insert(Alumnus).returning(Alumnus.id, sort_by_parameter_order=True), [
        {"user_id": u, "family_name": f"Bulk{i}", "given_names": "A", "country": country,
         "specialty": "cardiology", "email": f"bulk{tag}-{i}@alumni.example.org"}
        for i, u in enumerate(ids)]))
    db.session.commit()
    return alumni


def event(**kw: Any) -> Event:
    """A published event in ten days in Bangkok, open for registration."""
    n = next(_seq)
    start = utcnow().replace(microsecond=0) + timedelta(days=10)
    values: dict[str, Any] = {
        "title": f"Lecture {n}", "kind": "lecture", "city": "Bangkok", "country": "TH",
        "address": "Siriraj Hospital", "venue_timezone": "Asia/Bangkok",
        "mode": EventMode.IN_PERSON, "starts_at": start, "ends_at": start + timedelta(hours=3),
        "capacity": 20, "status": EventStatus.PUBLISHED, "eligible_countries": [],
        "eligible_specialties": [], "cpd_hours": 2.0, "seats_taken": 0, "waitlist_last": 0}
    values.update(kw)
    item = Event(**values)
    db.session.add(item)
    db.session.commit()
    return item


def past_event(**kw: Any) -> Event:
    start = utcnow().replace(microsecond=0) - timedelta(days=3)
    return event(starts_at=start, ends_at=start + timedelta(hours=3), **kw)


def registration(event_: Event, record: Alumnus | None = None, **kw: Any) -> Registration:
    """A row as the service would leave it (seat counted when registered)."""
    values: dict[str, Any] = {"status": "registered", "pass_code": new_pass_code(),
                              "registered_at": utcnow()}
    if record is not None:
        values.update(alumnus_id=record.id, source=RegSource.ALUMNUS)
    else:
        values.update(source=RegSource.GUEST, guest_email=f"guest{next(_seq)}@example.org",
                      guest_name="Guest Person", guest_institution="Clinic",
                      guest_salt=secrets.token_hex(8))
    values.update(kw)
    reg = Registration(event_id=event_.id, **values)
    db.session.add(reg)
    if values["status"] == "registered":
        db.session.get(Event, event_.id).seats_taken += 1
    db.session.commit()
    return reg
