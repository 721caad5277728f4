"""Role checks for routes. Object-level rules live in each area's policy module."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

from portal.accounts.models import Role


def role_required(*roles: Role) -> Callable:
    """Signed in and holding one of `roles`; 403 otherwise (the page itself is no secret)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # read by the access-control inventory test
        return wrapped

    return decorator


staff_required = role_required(Role.STAFF)
