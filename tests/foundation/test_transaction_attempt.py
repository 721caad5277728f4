"""A refused step inside a request leaves nothing behind, the rest of the request stays."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.audit.services import record
from portal.errors import Refused
from portal.extensions import db
from portal.transaction import attempt, run_unit


def _count() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id))) or 0


def test_a_refused_step_is_undone_and_the_rest_is_kept(app_ctx) -> None:
    def work() -> None:
        record("kept.before", actor=None)
        with pytest.raises(Refused), attempt():
            record("undone.inside", actor=None)
            db.session.flush()
            raise Refused("no")
        record("kept.after", actor=None)

    run_unit(work)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert actions == {"kept.before", "kept.after"}


def test_a_step_that_succeeds_is_committed_with_the_request(app_ctx) -> None:
    def work() -> None:
        with attempt():
            record("inside", actor=None)

    run_unit(work)
    assert _count() == 1
