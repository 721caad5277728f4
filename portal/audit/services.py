"""Writing to the audit log. Callers pass what happened; the request supplies who and where."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from portal.audit.models import AuditEvent
from portal.extensions import db


def client_ip() -> str | None:
    # With ProxyFix configured, remote_addr is already the client's address.
    return request.remote_addr if has_request_context() else None


def record(
    action: str,
    *,
    actor: Any = None,
    actor_label: str | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (committed with the change it records)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_label=actor_label or getattr(actor, "email", "") or "",
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        ip=client_ip(),
        details=details or {},
    )
    db.session.add(event)
    return event
