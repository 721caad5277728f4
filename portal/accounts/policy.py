"""Role checks for routes, and the signed-in person as a `User`. Object-level rules live
in each area's policy module."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar, cast

from flask import abort
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from portal.accounts.models import Role, User

View = TypeVar("View", bound=Callable[..., ResponseReturnValue])


def current_account() -> User:
    """The signed-in person (in views behind `login_required` or `role_required`)."""
    user = current_user._get_current_object() if current_user else None
    if not isinstance(user, User):
        abort(401)
    return user


def viewer() -> User | None:
    """The signed-in person, or None for an anonymous visitor."""
    user = current_user._get_current_object() if current_user else None
    return user if isinstance(user, User) else None


def role_required(*roles: Role) -> Callable[[View], View]:
    """Signed in and holding one of `roles`; 403 otherwise (the page itself is no secret)."""

    def decorator(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(*args: object, **kwargs: object) -> ResponseReturnValue:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]  # read by the access inventory
        return cast(View, wrapped)

    return decorator


staff_required = role_required(Role.STAFF)
