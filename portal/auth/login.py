"""Signing in and out: the session rules in one place."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar, cast

from flask import Response, current_app, g, request, session
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import login_user, logout_user
from sqlalchemy import select

from portal.accounts.models import User, new_session_token
from portal.accounts.passwords import hash_password, needs_rehash, verify_password
from portal.accounts.policy import viewer
from portal.accounts.services import by_email, normalize_email
from portal.audit.services import record
from portal.db import utcnow
from portal.extensions import db, limiter, login_manager

PENDING_2FA = "pending_2fa"
PENDING_2FA_SECONDS = 300


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    uid, _, token = user_id.partition(":")
    if not uid.isdigit() or not token:
        return None
    return db.session.scalars(
        select(User).where(User.id == int(uid), User.session_token == token, User.active)
    ).first()


def check_credentials(email: str, password: str) -> User | None:
    """The user if the password is right and the account active; same work either way."""
    user = by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        # Kept whatever becomes of the request's transaction.
        record("login.failed", actor=None, actor_label=normalize_email(email)[:254],
               object_type="user", object_id=user.id if user else None, keep=True)
        return None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(user: User, method: str = "password") -> None:
    """A fresh session: nothing from before the login survives (no fixation)."""
    keep_lang = session.get("lang")
    session.clear()
    login_user(user)
    session.permanent = True
    session["seen"] = session["started"] = int(time.time())
    if keep_lang:
        session["lang"] = keep_lang
    user.last_login_at = utcnow()
    record("login", actor=user, object_type="user", object_id=user.id,
           details={"method": method, "user_agent": request.user_agent.string[:200]})


def hold_for_second_factor(user: User, next_url: str | None) -> None:
    session.clear()
    session[PENDING_2FA] = {"uid": user.id, "token": user.session_token,
                            "at": int(time.time()), "next": next_url or ""}


def pending_second_factor() -> tuple[User | None, str]:
    data = session.get(PENDING_2FA) or {}
    if not data or int(time.time()) - int(data.get("at", 0)) > PENDING_2FA_SECONDS:
        return None, ""
    user = db.session.get(User, data["uid"])
    if user is None or not user.active or user.session_token != data.get("token"):
        return None, ""
    return user, str(data.get("next", ""))


def end_session(user: User | None) -> None:
    if user is not None and user.is_authenticated:
        record("logout", actor=user, object_type="user", object_id=user.id)
        # Sessions live in signed cookies: a copy of the old cookie would still sign in
        # unless the token inside it stops matching. (This signs out every device.)
        user.session_token = new_session_token()
    logout_user()
    session.clear()


# --- limits on password and code guesses ----------------------------------------------------
#
# Failures are counted per account and address together (LOGIN_LIMIT, growing windows):
# wrong passwords from one address do not lock the account for its owner elsewhere, and
# one person's typos do not block the other accounts behind a hospital's shared address.
# Higher ceilings bound an account tried from many addresses (LOGIN_ACCOUNT_LIMIT) and an
# address trying many accounts (LOGIN_ADDRESS_LIMIT). The counts live in the limiter's
# store (Redis in production), so every worker sees them; a refusal is a 429 with
# Retry-After, never a sleep in the worker. Changing the password and turning the second
# factor off count against the same limits as signing in.

def _address() -> str:
    return get_remote_address() or "-"


def _typed_account() -> str:
    return normalize_email(request.form.get("email", ""))[:254]


def _signed_in_account() -> str:
    user = viewer()
    return user.email if user is not None else ""


def login_pair_key() -> str:
    """Rate-limit key of the sign-in form: the account typed, from this address."""
    return f"pair:{_typed_account()}|{_address()}"


def login_key() -> str:
    """Rate-limit key for the account being tried (whoever tries it, from anywhere)."""
    return "acct:" + _typed_account()


def own_pair_key() -> str:
    """The signed-in person's account from this address (password change, 2FA off)."""
    return f"pair:{_signed_in_account()}|{_address()}"


def own_account_key() -> str:
    return "acct:" + _signed_in_account()


def login_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT"])


def login_account_limit() -> str:
    return str(current_app.config["LOGIN_ACCOUNT_LIMIT"])


def login_address_limit() -> str:
    return str(current_app.config["LOGIN_ADDRESS_LIMIT"])


def forgot_password_limit() -> str:
    return str(current_app.config["FORGOT_PASSWORD_LIMIT"])


def second_factor_limit() -> str:
    return str(current_app.config["SECOND_FACTOR_LIMIT"])


def refuse_password() -> None:
    """A view that checked a password and found it wrong: the answer counts as a failure
    (see `password_refused`)."""
    g.password_refused = True


def password_refused(_response: Response) -> bool:
    """deduct_when of the limits of views that check a password themselves."""
    return bool(g.get("password_refused"))


V = TypeVar("V", bound=Callable[..., ResponseReturnValue])


def own_password_limits() -> Callable[[V], V]:
    """The sign-in limits (shared counters) on a view where a signed-in person types their
    password again (change it, turn the second factor off): guessing it there counts as
    guessing it at sign-in. The view calls `refuse_password()` when it is wrong."""
    pair = limiter.shared_limit(login_limit, "login-pair", key_func=own_pair_key,
                                methods=["POST"], deduct_when=password_refused)
    account = limiter.shared_limit(login_account_limit, "login-account",
                                   key_func=own_account_key, methods=["POST"],
                                   deduct_when=password_refused)

    def decorator(view: V) -> V:
        return cast(V, pair(account(view)))

    return decorator
