"""Fixtures of the staff intake tests (data comes from tests/nominations/factories.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from portal.accounts.models import User
from tests.factories import Factory


@pytest.fixture
def staff(factory: Factory, login_as: Callable[[User], object]) -> User:
    """A staff member, signed in on `client`."""
    user = factory.staff()
    login_as(user)
    return user
