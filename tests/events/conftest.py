"""Fixtures of the events tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def req(app_ctx):
    """A writing request around a service call (mail links need one, as in a route)."""
    with app_ctx.test_request_context("/", base_url=app_ctx.config["BASE_URL"], method="POST"):
        yield app_ctx
