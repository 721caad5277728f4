"""Demo events in Thailand, Viet Nam and Malaysia: one past (attendance, certificates,
feedback), one open, one full with a waitlist, one announced for later, one draft."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.accounts.models import User
from portal.alumni.models import Alumnus
from portal.alumni.services import alumnus_for_user
from portal.db import utcnow
from portal.events import certificates
from portal.events.codes import new_pass_code
from portal.events.models import (
    Event,
    EventKind,
    EventMode,
    EventStatus,
    Feedback,
    Registration,
    RegSource,
    RegStatus,
)
from portal.extensions import db

ACCOUNT_RECORDS = [  # used only when the alumni area has not created the demo records
    ("Prasert", "Somchai", "สมชาย ประเสริฐ", "TH", "cardiology", "Asia/Bangkok"),
    ("Nguyen", "Thi Lan", "Nguyễn Thị Lan", "VN", "radiology", "Asia/Ho_Chi_Minh"),
    ("Faizal", "Ahmad", "", "MY", "endoscopy", "Asia/Kuala_Lumpur"),
]


def _at(days: int, hour: int, zone: str) -> datetime:
    """`days` from today at `hour` o'clock in the venue's zone, as UTC."""
    tz = ZoneInfo(zone)
    day = (utcnow().astimezone(tz) + timedelta(days=days)).date()
    return datetime.combine(day, time(hour), tz).astimezone(ZoneInfo("UTC"))


def _record(user: User, values: tuple[str, ...]) -> Alumnus:
    record = alumnus_for_user(user)
    if record is None:
        family, given, native, country, specialty, zone = values
        record = Alumnus(user_id=user.id, family_name=family, given_names=given,
                         native_name=native, country=country, specialty=specialty,
                         timezone=zone, email=user.email, cycle_year=2019, source="manual")
        db.session.add(record)
        db.session.flush()
    return record


def _others(country: str, exclude: set[int], n: int) -> list[Alumnus]:
    return list(db.session.scalars(
        select(Alumnus).where(Alumnus.country == country, Alumnus.merged_into_id.is_(None),
                              Alumnus.id.not_in(exclude or {0}))
        .order_by(Alumnus.id).limit(n)))


def _reg(event: Event, alumnus: Alumnus | None = None, **values: Any) -> Registration:
    reg = Registration(event=event, alumnus=alumnus, alumnus_id=alumnus.id if alumnus else None,
                       source=RegSource.ALUMNUS if alumnus else RegSource.GUEST,
                       pass_code=new_pass_code(), **values)
    db.session.add(reg)
    return reg


def _event(admin: User, zone: str, **values: Any) -> Event:
    event = Event(created_by_id=admin.id, venue_timezone=zone, seats_taken=0, waitlist_last=0,
                  published_at=utcnow(), **values)
    db.session.add(event)
    db.session.flush()
    return event


def load(people: dict[str, Any]) -> None:
    admin = people["admin"]
    somchai, lan, ahmad = (_record(u, v) for u, v in zip(people["alumni"], ACCOUNT_RECORDS,
                                                         strict=True))
    mine = {somchai.id, lan.id, ahmad.id}
    now = utcnow()

    # Past, in Bangkok: attended, certificates issued, feedback given.
    zone = "Asia/Bangkok"
    past = _event(admin, zone, kind=EventKind.LECTURE, status=EventStatus.PUBLISHED,
                  title="Advances in cardiac catheterization",
                  description="Current techniques in diagnostic and interventional "
                              "catheterization, with case discussions.",
                  speakers="Prof. Takeshi Mori (Tokyo)\nDr. Anan Srisuk (Siriraj Hospital)",
                  city="Bangkok", country="TH", address="Siriraj Hospital, Lecture Hall 2",
                  mode=EventMode.IN_PERSON, capacity=30, cpd_hours=3.0,
                  eligible_countries=["TH"], starts_at=_at(-20, 9, zone),
                  ends_at=_at(-20, 12, zone), registration_closes_at=_at(-21, 18, zone))
    attendees = [somchai, *_others("TH", mine, 5)]
    for i, person in enumerate(attendees):
        reg = _reg(past, person, status=RegStatus.REGISTERED, registered_at=now - timedelta(40),
                   checked_in_at=past.starts_at - timedelta(minutes=20 - i),
                   checked_in_by_id=admin.id, reminded_at=now - timedelta(22),
                   followed_up_at=now - timedelta(19))
        db.session.flush()
        certificates.issue(reg, past)
        db.session.add(Feedback(registration=reg, event_id=past.id, rating=5 - i % 2,
                                comment=["Very practical, thank you.", "",
                                         "More time for the case discussion, please."][i % 3]))
    past.seats_taken = len(attendees)

    # Open, hybrid, in Hanoi: a few seats taken; guests welcome.
    zone = "Asia/Ho_Chi_Minh"
    open_event = _event(
        admin, zone, kind=EventKind.DEMONSTRATION, status=EventStatus.PUBLISHED,
        title="Ultrasound-guided procedures: hands-on demonstration",
        description="Live demonstration of ultrasound-guided vascular access and nerve blocks "
                    "on training phantoms. Bring your questions.",
        speakers="Dr. Yuki Yamamoto (Osaka)", city="Hanoi", country="VN",
        address="Bach Mai Hospital, Training Centre, 78 Giai Phong", mode=EventMode.HYBRID,
        online_link="https://meet.example.org/ultrasound-hanoi", capacity=25, cpd_hours=4.0,
        eligible_countries=["VN", "TH", "MY"], guests_allowed=True,
        starts_at=_at(12, 13, zone), ends_at=_at(12, 17, zone),
        registration_closes_at=_at(10, 23, zone))
    for person in _others("VN", mine, 6):
        _reg(open_event, person, status=RegStatus.REGISTERED, registered_at=now)
    open_event.seats_taken = 6

    # Full, in Kuala Lumpur: every seat taken, three in line (Ahmad is second).
    zone = "Asia/Kuala_Lumpur"
    full = _event(admin, zone, kind=EventKind.SEMINAR, status=EventStatus.PUBLISHED,
                  title="Endoscopy seminar: early gastric cancer",
                  description="Case-based seminar on detection and endoscopic treatment.",
                  speakers="Dr. Kenji Watanabe (Fukuoka)", city="Kuala Lumpur", country="MY",
                  address="Kuala Lumpur General Hospital, Auditorium", mode=EventMode.IN_PERSON,
                  capacity=4, cpd_hours=2.5, eligible_countries=["MY"],
                  starts_at=_at(21, 9, zone), ends_at=_at(21, 16, zone))
    malaysians = _others("MY", mine, 6)
    for person in malaysians[:4]:
        _reg(full, person, status=RegStatus.REGISTERED, registered_at=now - timedelta(3))
    line = [malaysians[4], ahmad, *malaysians[5:6]]
    for place, person in enumerate(line, start=1):
        _reg(full, person, status=RegStatus.WAITLISTED, waitlist_position=place,
             waitlisted_at=now - timedelta(2))
    full.seats_taken, full.waitlist_last = 4, len(line)

    # Announced: registration opens later.
    zone = "Asia/Bangkok"
    _event(admin, zone, kind=EventKind.EXPERT_DISPATCH, status=EventStatus.PUBLISHED,
           title="Expert visit: echocardiography in practice",
           description="A Japanese expert works with cardiology teams for two days.",
           speakers="Dr. Hiroshi Sato", city="Chiang Mai", country="TH",
           address="Chiang Mai University Hospital", mode=EventMode.IN_PERSON, capacity=15,
           cpd_hours=8.0, eligible_countries=["TH", "VN", "MY"],
           eligible_specialties=["cardiology", "ultrasonography"],
           starts_at=_at(60, 9, zone), ends_at=_at(61, 17, zone),
           registration_opens_at=_at(20, 9, zone))

    # A draft only staff see.
    zone = "Asia/Manila"
    _event(admin, zone, kind=EventKind.LECTURE, status=EventStatus.DRAFT,
           title="Nephrology update (draft)", city="Manila", country="PH",
           mode=EventMode.ONLINE, online_link="https://meet.example.org/nephrology",
           capacity=100, starts_at=_at(45, 14, zone), ends_at=_at(45, 16, zone))
    db.session.flush()
