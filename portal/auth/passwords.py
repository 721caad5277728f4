"""Password hashing lives in the accounts area (below auth); these names stay importable
from here for sign-in code, tests and benchmarks."""

from __future__ import annotations

from portal.accounts.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password

__all__ = ["MIN_LENGTH", "hash_password", "needs_rehash", "verify_password"]
