"""Demo accounts and records for trying the portal (`flask demo-data`)."""

from __future__ import annotations

import importlib

from portal.accounts.models import Role, User, UserRole
from portal.accounts.passwords import hash_password
from portal.extensions import db
from portal.institutions.models import Institution
from portal.registry import DEMO_LOADERS

PASSWORD = "demo-pass-2026"  # noqa: S105  (public: printed in the README)

def _user(email: str, name: str, roles: list[Role], pw: str, **kw: object) -> User:
    user = User(email=email, name=name, password_hash=pw, language="en", **kw)
    user.role_rows = [UserRole(role=str(r)) for r in roles]
    db.session.add(user)
    return user


def load() -> dict[str, object]:
    pw = hash_password(PASSWORD)  # one hash for all: argon2 is slow on purpose
    kl = Institution(
        name="Kuala Lumpur General Hospital", country="MY", city="Kuala Lumpur",
        timezone="Asia/Kuala_Lumpur", kind="hospital", head_name="Dr. Aminah binti Yusof",
        head_email="director@hospital-kl.example.org",
    )
    hanoi = Institution(
        name="Hanoi Heart Hospital", country="VN", city="Hanoi", timezone="Asia/Ho_Chi_Minh",
        kind="hospital", head_name="Prof. Nguyễn Văn An",
        head_email="director@hospital-hanoi.example.org",
    )
    manila = Institution(
        name="Philippine Society of Radiology", country="PH", city="Manila",
        timezone="Asia/Manila", kind="association", head_name="Dr. Maria Santos",
        head_email="president@radiology-ph.example.org", status="requested",
        contact_name="Jose Reyes", contact_email="jose.reyes@radiology-ph.example.org",
        contact_position="Secretary", request_message="We would like to nominate two "
        "radiologic technologists for the next cycle.",
    )
    db.session.add_all([kl, hanoi, manila])
    db.session.flush()
    people: dict[str, object] = {"institutions": {"kl": kl, "hanoi": hanoi, "manila": manila}}
    people["admin"] = _user("admin@example.org", "Keiko Tanaka", [Role.STAFF], pw,
                            timezone="Asia/Tokyo")
    people["nominator_kl"] = _user("nominator@hospital-kl.example.org", "Siti Rahman",
                                   [Role.NOMINATOR], pw, institution_id=kl.id)
    people["nominator_hanoi"] = _user("nominator@hospital-hanoi.example.org", "Trần Thị Mai",
                                      [Role.NOMINATOR], pw, institution_id=hanoi.id)
    people["reviewers"] = [
        _user(f"reviewer{i}@example.org", name, [Role.REVIEWER], pw, timezone="Asia/Tokyo")
        for i, name in enumerate(["Dr. Hiroshi Sato", "Dr. Yuki Yamamoto",
                                  "Dr. Kenji Watanabe"], start=1)
    ]
    people["alumni"] = [
        _user(f"alumnus{i}@example.org", name, [Role.ALUMNUS], pw, timezone=tz)
        for i, (name, tz) in enumerate([
            ("Dr. Somchai Prasert", "Asia/Bangkok"),
            ("Dr. Nguyen Thi Lan", "Asia/Ho_Chi_Minh"),
            ("Dr. Ahmad Faizal", "Asia/Kuala_Lumpur"),
        ], start=1)
    ]
    db.session.flush()
    for path in DEMO_LOADERS:
        module, _, name = path.rpartition(".")
        getattr(importlib.import_module(module), name)(people)
    return people
