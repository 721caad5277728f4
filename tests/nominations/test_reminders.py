"""Deadline reminders: 7 days and 1 day before, once each, only to institutions with
unfinished nominations."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.nominations.models import NominationState
from portal.nominations.reminders import send_due
from portal.notify.models import OutboxMessage
from tests.nominations.factories import make_nomination


def _reminders() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "nomination_reminder").order_by(OutboxMessage.id)))


def test_seven_days_then_one_day_once_each(app_ctx, factory, cycle):
    late = factory.institution(name="Late Hospital")
    done = factory.institution(name="Done Hospital")
    late_user, done_user = factory.nominator(late), factory.nominator(done)
    make_nomination(cycle, late, complete=False, family_name="Unfinished")
    make_nomination(cycle, done, state=NominationState.SUBMITTED)
    deadline = cycle.closes_at

    assert send_due(now=deadline - timedelta(days=8)) == 0
    assert send_due(now=deadline - timedelta(days=6, hours=20)) == 1
    mails = _reminders()
    assert [m.to_addr for m in mails] == [late_user.email]
    assert "7 days" in mails[0].body_text and "Unfinished" in mails[0].body_text
    assert "JST" in mails[0].body_text  # the deadline in Japan time too
    assert send_due(now=deadline - timedelta(days=6)) == 0  # once

    assert send_due(now=deadline - timedelta(hours=20)) == 1
    assert send_due(now=deadline - timedelta(hours=2)) == 0
    mails = _reminders()
    assert len(mails) == 2 and "1 day" in mails[1].body_text
    assert done_user.email not in {m.to_addr for m in mails}
    assert send_due(now=deadline + timedelta(hours=1)) == 0  # after the deadline: silence


def test_the_command_sends_them(app, app_ctx, factory):
    from tests.nominations.factories import make_cycle

    cycle = make_cycle(closes_in=timedelta(hours=10))
    institution = factory.institution()
    factory.nominator(institution)
    make_nomination(cycle, institution, complete=False)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["send-reminders"])
    assert "nomination-reminders: 1" in first.output
    second = runner.invoke(args=["send-reminders"])
    assert "nomination-reminders: 0" in second.output
    assert len(_reminders()) == 1
