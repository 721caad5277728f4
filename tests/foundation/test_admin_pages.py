"""Staff pages: the audit log with its filters (dates in the viewer's zone), /healthz."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.conftest import login


def _event(action: str, actor: str, at: datetime) -> None:
    db.session.add(AuditEvent(action=action, actor_label=actor, at=at, details={}))


def test_audit_filters(app_ctx, factory) -> None:  # noqa: ANN001
    staff = factory.staff(timezone="Asia/Tokyo")
    # 2026-03-01 23:00 in Tokyo, and 2026-03-02 01:00 in Tokyo (still 1 March in UTC).
    _event("nomination.submitted", "late@example.org", datetime(2026, 3, 1, 14, tzinfo=UTC))
    _event("nomination.withdrawn", "early@example.org", datetime(2026, 3, 1, 16, tzinfo=UTC))
    _event("document.downloaded", "reader@example.org", datetime(2026, 3, 5, 2, tzinfo=UTC))
    db.session.commit()
    client = app_ctx.test_client()
    login(client, staff)

    def shown(**args: str) -> set[str]:
        html = client.get("/admin/audit", query_string=args).get_data(as_text=True)
        return {a for a in ("late@", "early@", "reader@") if a in html}

    assert shown() == {"late@", "early@", "reader@"}
    assert shown(action="nomination.") == {"late@", "early@"}
    assert shown(action="document.downloaded") == {"reader@"}
    assert shown(actor="EARLY") == {"early@"}
    assert shown(**{"from": "2026-03-02", "to": "2026-03-02"}) == {"early@"}
    assert shown(**{"to": "2026-03-01"}) == {"late@"}
    assert shown(**{"from": "2026-03-02"}) == {"early@", "reader@"}
    assert shown(**{"from": "not a date"}) == {"late@", "early@", "reader@"}
    # Times are shown in the viewer's zone.
    html = client.get("/admin/audit", query_string={"action": "document."}).get_data(
        as_text=True)
    assert "JST" in html

    partial = client.get("/admin/audit", query_string={"actor": "reader"},
                         headers={"HX-Request": "true"})
    assert "<html" not in partial.get_data(as_text=True)
    assert "reader@example.org" in partial.get_data(as_text=True)
    assert "HX-Request" in partial.headers.get("Vary", "")


def test_logins_are_audited_with_the_address(app_ctx, factory) -> None:  # noqa: ANN001
    user = factory.reviewer()
    client = app_ctx.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.77"
    login(client, user)
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "login"))
    assert event.actor_id == user.id and event.ip == "198.51.100.77"


def test_healthz_reports_without_secrets(app_ctx) -> None:  # noqa: ANN001
    response = app_ctx.test_client().get("/healthz")
    assert response.status_code == 200
    body = json.loads(response.get_data(as_text=True))
    assert body == {"status": "ok", "database": "ok", "storage": "ok"}
    text = response.get_data(as_text=True).lower()
    config = app_ctx.config
    for secret in ("postgres", "sqlite", "127.0.0.1", "password", "://",
                   config["SECRET_KEY"], config["STORAGE_LOCAL_ROOT"].lower()):
        assert secret not in text
