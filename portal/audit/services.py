"""Writing to the audit log. The service that makes a change records it; the actor is
passed in by its caller (None: the portal itself, a job or a command), never read from
the request here. Where it happened (the client's address) is taken from the request
when there is one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import has_request_context, request

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.transaction import keep as keep_outside

if TYPE_CHECKING:
    from portal.accounts.models import User


def client_ip() -> str | None:
    # With ProxyFix configured, remote_addr is already the client's address.
    return request.remote_addr if has_request_context() else None


def record(
    action: str,
    *,
    actor: User | None,
    actor_label: str | None = None,
    object_type: str | None = None,
    object_id: object = None,
    details: dict[str, Any] | None = None,
    keep: bool = False,
) -> AuditEvent:
    """Add an audit event to the current transaction, committed with the change it
    records. `keep=True`: written even if that transaction rolls back (a refused action,
    a failed sign-in), in a transaction of its own right after it."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_label=actor_label or (actor.email if actor is not None else ""),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        ip=client_ip(),
        details=details or {},
    )
    if keep:
        keep_outside(event)
    else:
        db.session.add(event)
    return event
