"""Fixtures of the foundation tests: temporary settings, a real SMTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def settings(app_ctx) -> Iterator[Callable[..., Any]]:  # noqa: ANN001
    """`settings(NAME=value, ...)`: change settings the portal reads at request time, for
    this test only (both backends share one app per session)."""
    saved: dict[str, Any] = {}
    missing = object()

    def change(**values: Any) -> None:
        for key, value in values.items():
            saved.setdefault(key, app_ctx.config.get(key, missing))
            app_ctx.config[key] = value

    yield change
    for key, value in saved.items():
        if value is missing:
            app_ctx.config.pop(key, None)
        else:
            app_ctx.config[key] = value


@pytest.fixture
def smtp(smtp_server, settings):  # noqa: ANN001, ANN201
    """The portal sending to a real SMTP server; yields its mailbox."""
    host, port, mailbox = smtp_server
    settings(SMTP_HOST=host, SMTP_PORT=port)
    return mailbox
