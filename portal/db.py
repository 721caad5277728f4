"""Column types and helpers shared by every area's models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, DateTime, Dialect, Result, TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zone type; values are stored as naive UTC and given their zone back
    when read, so Python code only ever sees aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect
                             ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE run with `session.execute` (typed as a plain
    Result, which has no rowcount, although it is a CursorResult)."""
    return cast(CursorResult[Any], result).rowcount


def new_key() -> str:
    """Random, unguessable identifier for storage keys and public references."""
    return uuid.uuid4().hex
