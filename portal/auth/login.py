"""Signing in and out: the session rules in one place."""

from __future__ import annotations

import time

from flask import current_app, request, session
from flask_login import login_user, logout_user
from sqlalchemy import select

from portal.accounts.models import User, new_session_token
from portal.accounts.passwords import hash_password, needs_rehash, verify_password
from portal.accounts.services import by_email, normalize_email
from portal.audit.services import record
from portal.db import utcnow
from portal.extensions import db, login_manager

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


def login_key() -> str:
    """Rate-limit key for the account being tried (whoever tries it)."""
    return "acct:" + normalize_email(request.form.get("email", ""))[:254]


def login_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT"])


def forgot_password_limit() -> str:
    return str(current_app.config["FORGOT_PASSWORD_LIMIT"])


def second_factor_limit() -> str:
    return str(current_app.config["SECOND_FACTOR_LIMIT"])
