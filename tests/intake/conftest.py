"""Fixtures of the staff intake tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from portal.accounts.models import User
from tests.conftest import count_queries
from tests.factories import Factory
from tests.intake.factories import IntakeFactory

__all__ = ["count_queries"]  # imported from here by the intake tests; one copy, in tests/


@pytest.fixture
def intake(app_ctx: Flask) -> IntakeFactory:
    return IntakeFactory()


@pytest.fixture
def staff(factory: Factory, login_as: Callable[[User], object]) -> User:
    """A staff member, signed in on `client`."""
    user = factory.staff()
    login_as(user)
    return user
