"""Fixtures of the staff intake tests (data comes from tests/nominations/factories.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event


@pytest.fixture
def staff(factory, login_as):  # noqa: ANN001, ANN201
    """A staff member, signed in on `client`."""
    user = factory.staff()
    login_as(user)
    return user


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """The SQL statements run inside the block (every connection of the app's engine)."""
    from portal.extensions import db

    statements: list[str] = []

    def _count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)
