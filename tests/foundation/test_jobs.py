"""Background work: with Redis configured, jobs go to an RQ queue served by workers;
without it they run in-process after the commit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis
from rq import Queue, SimpleWorker

from portal import jobs
from tests.conftest import login
from tests.foundation.helpers import outbox


@pytest.fixture
def rq_queue(app_ctx, redis_url, settings) -> Iterator[Queue]:  # noqa: ANN001
    connection = Redis.from_url(redis_url)
    connection.flushdb()
    settings(REDIS_URL=redis_url)
    try:
        yield Queue("portal", connection=connection)
    finally:
        app_ctx.extensions.pop("portal_redis", None)
        connection.flushdb()
        connection.close()


def test_jobs_go_to_the_queue_and_a_worker_sends_the_mail(app_ctx, factory, smtp,
                                                          rq_queue) -> None:  # noqa: ANN001
    client = app_ctx.test_client()
    login(client, factory.staff())
    response = client.post("/admin/people/invite", data={
        "name": "Queued Person", "email": "queued@example.org", "roles": "reviewer",
        "institution_id": "0", "language": "en"})
    assert response.status_code == 303
    assert rq_queue.count == 1  # handed to the queue, not sent by the web request
    assert smtp.messages == []
    [row] = outbox("queued@example.org")
    assert row.status == "queued"

    worker = SimpleWorker([rq_queue], connection=rq_queue.connection)
    assert worker.work(burst=True)
    assert rq_queue.count == 0
    assert len(smtp.to("queued@example.org")) == 1
    assert outbox("queued@example.org")[0].status == "sent"


def test_a_failing_job_does_not_break_the_request(app_ctx, factory, monkeypatch) -> None:  # noqa: ANN001
    def broken(_message_id: int) -> None:
        raise RuntimeError("the mail server exploded")

    monkeypatch.setattr("portal.notify.jobs.send_message", broken)
    response = app_ctx.test_client().post("/password/forgot",
                                          data={"email": factory.reviewer().email})
    assert response.status_code == 303
    assert outbox()[0].status == "queued"  # kept: the tick will send it


def test_tick_runs_every_periodic_job(app_ctx) -> None:  # noqa: ANN001
    result = app_ctx.test_cli_runner().invoke(args=["jobs", "tick"])
    assert result.exit_code == 0, result.output
    names = [name for name, _path in jobs.PERIODIC]
    assert "mail" in names
    for name in names:
        assert f"{name}:" in result.output
    assert "failed" not in result.output.replace("0 failed", "")
