"""Factories for test data: real rows through the real models."""

from __future__ import annotations

import itertools
from functools import cache
from typing import Any

from portal.accounts.models import Role, User, UserRole
from portal.auth.passwords import hash_password
from portal.extensions import db
from portal.institutions.models import Institution

TEST_PASSWORD = "test-pass-2026!"  # of every account made here; tests.conftest has it too

_seq = itertools.count(1)


@cache
def _password_hash() -> str:
    return hash_password(TEST_PASSWORD)  # argon2 is slow on purpose: hash once per run


class Factory:
    def institution(self, **kw: Any) -> Institution:
        n = next(_seq)
        values: dict[str, Any] = {
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
             **kw: Any) -> User:
        n = next(_seq)
        values: dict[str, Any] = {"email": f"user{n}@example.org", "name": f"User {n}",
                  "password_hash": _password_hash(), "language": "en"}
        values.update(kw)
        if Role.NOMINATOR in roles and institution is None:
            institution = self.institution()
        user = User(**values, institution_id=institution.id if institution else None)
        user.role_rows = [UserRole(role=str(r)) for r in roles]
        db.session.add(user)
        db.session.commit()
        return user

    def staff(self, **kw: Any) -> User:
        return self.user(Role.STAFF, **kw)

    def nominator(self, institution: Institution | None = None, **kw: Any) -> User:
        return self.user(Role.NOMINATOR, institution=institution, **kw)

    def reviewer(self, **kw: Any) -> User:
        return self.user(Role.REVIEWER, **kw)

    def alumnus(self, **kw: Any) -> User:
        return self.user(Role.ALUMNUS, **kw)
