"""The e-mail outbox: every mail is a row first, in the recipient's language, sent over
SMTP after the commit; refused mail is retried, held mail waits for staff, failed mail
is shown with its error and can be tried again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from portal import jobs
from portal.db import utcnow
from portal.extensions import db
from portal.notify.jobs import send_due
from portal.notify.models import MailStatus, OutboxMessage
from portal.notify.services import Attachment, queue_mail
from tests.conftest import login
from tests.foundation.helpers import fresh, outbox

JA_CATALOG = Path(__file__).resolve().parents[2] / "translations/ja/LC_MESSAGES/messages.mo"


def _make_due() -> None:
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(1)))
    db.session.commit()


def test_mail_is_a_row_first_and_sent_after_commit(app_ctx, smtp) -> None:  # noqa: ANN001
    message = queue_mail("Someone@Example.org", "password_reset", subject=_l("Reset your password"),
                         name="Someone", link="http://portal.test/x", hours=2,
                         attachments=[Attachment("note.txt", "text/plain", b"hello")])
    assert message.id and message.status == MailStatus.QUEUED
    assert smtp.messages == []  # nothing leaves before the commit
    db.session.commit()
    assert jobs.run_ready() == 1
    [sent] = smtp.to("someone@example.org")
    assert sent["Subject"] == "Reset your password"
    assert "http://portal.test/x" in sent.get_body(("plain",)).get_content()
    assert sent.get_body(("html",)) is not None
    assert [a.get_filename() for a in sent.iter_attachments()] == ["note.txt"]
    row = fresh(OutboxMessage, message.id)
    assert row.status == MailStatus.SENT and row.attempts == 1 and row.sent_at


def test_rolled_back_mail_is_never_sent(app_ctx, smtp) -> None:  # noqa: ANN001
    queue_mail("someone@example.org", "password_reset", subject=_l("Reset your password"),
               name="Someone", link="http://portal.test/x", hours=2)
    db.session.rollback()
    assert jobs.run_ready() == 0
    assert outbox() == [] and smtp.messages == []


def test_mail_goes_out_in_the_recipients_language(app_ctx, factory, smtp) -> None:  # noqa: ANN001
    user = factory.reviewer(email="tanaka@example.org", language="ja")
    response = app_ctx.test_client().post("/password/forgot", data={"email": user.email})
    assert response.status_code == 303
    [row] = outbox(user.email)
    assert row.language == "ja" and row.status == MailStatus.SENT
    [sent] = smtp.to(user.email)
    assert sent["Content-Language"] == "ja"
    assert sent["Subject"] == row.subject
    if JA_CATALOG.exists():  # the Japanese catalog is written alongside the English text
        assert row.subject != "Reset your password"
        assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff"
                   for ch in row.subject + row.body_text)


def test_refused_mail_stays_queued_and_is_sent_later(app_ctx, factory, smtp) -> None:  # noqa: ANN001
    user = factory.reviewer()
    smtp.refuse = True
    app_ctx.test_client().post("/password/forgot", data={"email": user.email})
    [row] = outbox(user.email)
    assert row.status == MailStatus.QUEUED and row.attempts == 1
    assert "451" in row.last_error
    assert row.next_attempt_at > utcnow()  # not hammered again at once

    smtp.refuse = False
    assert send_due() == "0 sent, 0 failed"  # not due yet
    _make_due()
    assert send_due() == "1 sent, 0 failed"
    row = fresh(OutboxMessage, row.id)
    assert row.status == MailStatus.SENT and row.last_error is None
    assert len(smtp.to(user.email)) == 1


def test_jobs_tick_sends_what_is_due(app_ctx, smtp) -> None:  # noqa: ANN001
    smtp.refuse = True
    queue_mail("later@example.org", "password_reset", subject=_l("Reset your password"),
               name="Later", link="http://portal.test/x", hours=2)
    db.session.commit()
    jobs.run_ready()
    smtp.refuse = False
    _make_due()
    result = app_ctx.test_cli_runner().invoke(args=["jobs", "tick"])
    assert result.exit_code == 0, result.output
    assert "mail: 1 sent, 0 failed" in result.output
    assert len(smtp.to("later@example.org")) == 1


def test_held_mail_waits_for_staff(app_ctx, factory, smtp) -> None:  # noqa: ANN001
    message = queue_mail("held@example.org", "password_reset", subject=_l("Reset your password"),
                         review=True, name="Held", link="http://portal.test/x", hours=2)
    db.session.commit()
    jobs.run_ready()
    _make_due()
    send_due()
    assert smtp.messages == [] and fresh(OutboxMessage, message.id).status == MailStatus.HELD

    client = app_ctx.test_client()
    login(client, factory.staff())
    assert "1 e-mail waits for your review" in client.get("/dashboard").get_data(as_text=True)
    page = client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert "waits for your review" in page
    response = client.post(f"/admin/outbox/{message.id}/release")
    assert response.status_code == 303
    assert len(smtp.to("held@example.org")) == 1
    assert fresh(OutboxMessage, message.id).status == MailStatus.SENT


def test_failed_mail_is_shown_and_can_be_retried(app_ctx, factory, smtp, settings) -> None:  # noqa: ANN001
    settings(MAIL_MAX_ATTEMPTS=2)
    smtp.refuse = True
    message = queue_mail("failing@example.org", "password_reset",
                         subject=_l("Reset your password"), name="F",
                         link="http://portal.test/x", hours=2)
    db.session.commit()
    jobs.run_ready()
    _make_due()
    send_due()
    row = fresh(OutboxMessage, message.id)
    assert row.status == MailStatus.FAILED and row.attempts == 2

    client = app_ctx.test_client()
    login(client, factory.staff())
    listing = client.get("/admin/outbox", query_string={"status": "failed"}).get_data(
        as_text=True)
    assert "failing@example.org" in listing and "451" in listing
    page = client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert "Last error" in page and "Try again" in page

    smtp.refuse = False
    response = client.post(f"/admin/outbox/{message.id}/retry")
    assert response.status_code == 303
    assert fresh(OutboxMessage, message.id).status == MailStatus.SENT
    assert len(smtp.to("failing@example.org")) == 1


def test_without_smtp_mail_is_kept_for_staff(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer()
    app_ctx.test_client().post("/password/forgot", data={"email": user.email})
    [row] = outbox(user.email)
    assert row.status == MailStatus.QUEUED and row.attempts == 0
    client = app_ctx.test_client()
    login(client, factory.staff())
    page = client.get(f"/admin/outbox/{row.id}").get_data(as_text=True)
    assert "/password/reset/" in page  # staff can read the mail and pass the link on
