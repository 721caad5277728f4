"""Periodic work really runs: `flask jobs tick` (cron in production) and the embedded
scheduler thread of `flask run` send the reminders that are due.

The expectations come from the rows these tests put in the database (a draft one day
before its cycle's deadline, a seat at an event that starts tomorrow), never from the
registry of periodic work the command iterates."""

from __future__ import annotations

from datetime import timedelta

import click
import pytest
from flask import Flask
from sqlalchemy import select

from portal.db import utcnow
from portal.extensions import db
from portal.jobs import scheduler
from portal.notify.models import OutboxMessage
from tests.events import factories as events
from tests.factories import Factory
from tests.nominations.factories import make_cycle, make_nomination


def _due_reminders(factory: Factory) -> tuple[str, str]:
    """A draft nomination a day before the deadline and a seat at tomorrow's event;
    returns (the nominator's address, the alumnus' address)."""
    cycle = make_cycle(closes_in=timedelta(hours=20))
    institution = factory.institution(name="Late Hospital")
    nominator = factory.nominator(institution)
    make_nomination(cycle, institution, complete=False, family_name="Unfinished")
    tomorrow = utcnow() + timedelta(days=1)
    lecture = events.event(title="Tomorrow's lecture", starts_at=tomorrow,
                           ends_at=tomorrow + timedelta(hours=2))
    alumnus_user, alumnus = events.alumnus(factory)
    events.registration(lecture, alumnus)
    addresses = nominator.email, alumnus_user.email
    # Committed, and no transaction left open: on SQLite an open one holds the write lock
    # the scheduler's own application context (and session) needs.
    db.session.commit()
    return addresses


def _outbox() -> set[tuple[str, str]]:
    db.session.rollback()  # a fresh snapshot of what the work committed
    return {(m.template, m.to_addr) for m in db.session.scalars(select(OutboxMessage))}


def test_flask_jobs_tick_sends_the_reminders_that_are_due(app_ctx: Flask,
                                                          factory: Factory) -> None:
    nominator, alumnus = _due_reminders(factory)

    result = app_ctx.test_cli_runner().invoke(args=["jobs", "tick"])

    assert result.exit_code == 0, result.output
    sent = _outbox()
    assert ("nomination_reminder", nominator) in sent
    assert ("event_reminder", alumnus) in sent
    assert "failed:" not in result.output
    # Once each: the next minute's tick finds nothing new to send.
    app_ctx.test_cli_runner().invoke(args=["jobs", "tick"])
    assert len(_outbox()) == len(sent)


def test_a_round_of_the_embedded_scheduler_is_a_tick(app_ctx: Flask, factory: Factory) -> None:
    nominator, alumnus = _due_reminders(factory)

    results = scheduler.run_round(app_ctx)

    assert all(ok for _name, _result, ok in results), results
    sent = _outbox()
    assert ("nomination_reminder", nominator) in sent
    assert ("event_reminder", alumnus) in sent


@pytest.fixture
def served(app_ctx: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The app as `flask run` would serve it in the embedded mode."""
    monkeypatch.setitem(app_ctx.config, "TESTING", False)
    monkeypatch.setitem(app_ctx.config, "PRODUCTION", False)
    monkeypatch.setitem(app_ctx.config, "REDIS_URL", "")
    monkeypatch.setitem(app_ctx.config, "EMBEDDED_SCHEDULER", True)
    return app_ctx


def test_the_scheduler_starts_only_under_flask_run_in_the_embedded_mode(
        served: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    assert scheduler.should_start(served, served=True)
    assert not scheduler.should_start(served, served=False)  # gunicorn, another command
    for key, value in (("TESTING", True), ("PRODUCTION", True),
                       ("REDIS_URL", "redis://127.0.0.1:6379/15"),
                       ("EMBEDDED_SCHEDULER", False)):
        with monkeypatch.context() as m:
            m.setitem(served.config, key, value)
            assert not scheduler.should_start(served, served=True), key


def test_flask_run_is_recognised_from_its_command_line_context() -> None:
    assert not scheduler.served_by_flask_run()  # no command at all (gunicorn, tests)
    run = click.Context(click.Command("run"), info_name="run")
    run.params = {"reload": False}
    with run:
        assert scheduler.served_by_flask_run()
    run.params = {"reload": True}  # the reloader's parent only watches files
    with run:
        assert not scheduler.served_by_flask_run()
    tick = click.Context(click.Command("tick"), info_name="tick")
    with tick:
        assert not scheduler.served_by_flask_run()


def test_tests_never_start_the_thread(app_ctx: Flask) -> None:
    assert scheduler.start(app_ctx) is None
    assert "portal_scheduler" not in app_ctx.extensions
