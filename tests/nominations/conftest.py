"""Fixtures of the nomination workspace tests."""

from __future__ import annotations

import pytest

from tests.nominations.factories import make_cycle


@pytest.fixture
def cycle(app_ctx):  # noqa: ANN001, ANN201
    return make_cycle()


@pytest.fixture
def nominator(factory, login_as):  # noqa: ANN001, ANN201
    """A nominator of a Malaysian hospital, signed in on `client`."""
    institution = factory.institution(name="KL Hospital", country="MY",
                                      timezone="Asia/Kuala_Lumpur")
    user = factory.nominator(institution)
    login_as(user)
    return user
