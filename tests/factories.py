"""Factories for test data: real rows through the real models."""

from __future__ import annotations

import itertools
from functools import cache

from portal.accounts.models import Role, User, UserRole
from portal.extensions import db
from portal.institutions.models import Institution

_seq = itertools.count(1)


@cache
def _password_hash() -> str:
    from portal.auth.passwords import hash_password
    from tests.conftest import TEST_PASSWORD

    return hash_password(TEST_PASSWORD)  # argon2 is slow on purpose: hash once per run


class Factory:
    def institution(self, **kw: object) -> Institution:
        n = next(_seq)
        values = {
            "name": f"Hospital {n}", "country": "MY", "city": "Kuala Lumpur",
            "timezone": "Asia/Kuala_Lumpur", "kind": "hospital",
            "head_name": f"Director {n}", "head_email": f"head{n}@hospital.example.org",
        }
        values.update(kw)
        institution = Institution(**values)
        db.session.add(institution)
        db.session.commit()
        return institution

    def user(self, *roles: Role, institution: Institution | None = None,
             **kw: object) -> User:
        n = next(_seq)
        values = {"email": f"user{n}@example.org", "name": f"User {n}",
                  "password_hash": _password_hash(), "language": "en"}
        values.update(kw)
        if Role.NOMINATOR in roles and institution is None:
            institution = self.institution()
        user = User(**values, institution_id=institution.id if institution else None)
        user.role_rows = [UserRole(role=str(r)) for r in roles]
        db.session.add(user)
        db.session.commit()
        return user

    def staff(self, **kw: object) -> User:
        return self.user(Role.STAFF, **kw)

    def nominator(self, institution: Institution | None = None, **kw: object) -> User:
        return self.user(Role.NOMINATOR, institution=institution, **kw)

    def reviewer(self, **kw: object) -> User:
        return self.user(Role.REVIEWER, **kw)

    def alumnus(self, **kw: object) -> User:
        return self.user(Role.ALUMNUS, **kw)
