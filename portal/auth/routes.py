"""Sign in, sign out, forgotten password, invitations, change password."""

from __future__ import annotations

import math
import time

from flask import flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from portal import tokens
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.accounts.passwords import verify_password
from portal.accounts.policy import current_account, viewer
from portal.auth import bp
from portal.auth.forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, NewPasswordForm
from portal.auth.login import (
    check_credentials,
    end_session,
    forgot_password_limit,
    hold_for_second_factor,
    login_account_limit,
    login_address_limit,
    login_key,
    login_limit,
    login_pair_key,
    own_password_limits,
    refuse_password,
    start_session,
)
from portal.extensions import db, limiter
from portal.security import safe_next
from portal.web import see_other


def _failed(response: Response) -> bool:
    # Only refused attempts count against the limit: a successful login redirects, and an
    # attempt the limit itself held back (429) checked no password.
    return response.status_code not in (303, 429)


# The limits of portal.auth.login: this account from this address, this account from
# anywhere (shared with the views below that check the password of a signed-in person),
# and this address whatever account it tries.
@bp.route("/login", methods=["GET", "POST"])
@limiter.shared_limit(login_limit, "login-pair", key_func=login_pair_key, methods=["POST"],
                      deduct_when=_failed)
@limiter.shared_limit(login_account_limit, "login-account", key_func=login_key,
                      methods=["POST"], deduct_when=_failed)
@limiter.limit(login_address_limit, methods=["POST"], deduct_when=_failed, scope="login-ip")
def login() -> ResponseReturnValue:
    if viewer() is not None:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = check_credentials(form.email.data, form.password.data)
        if user is None:  # the failure is recorded (kept) by check_credentials
            flash(_("E-mail or password is not right."), "error")
            return render_template("auth/login.html", form=form), 401
        if user.has_2fa:
            hold_for_second_factor(user, form.next.data)
            return see_other("auth.second_factor")
        start_session(user)
        return redirect(safe_next(form.next.data), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    end_session(viewer())
    flash(_("You are signed out."), "info")
    return see_other("auth.login")


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(forgot_password_limit, methods=["POST"], scope="forgot-ip")
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        # The same answer whether or not the address has an account.
        flash(_("If an account uses this address, a link to set a new password is on its "
                "way. It works once and expires soon."), "info")
        return see_other("auth.login")
    return render_template("auth/forgot.html", form=form), 422 if form.errors else 200


def _set_password_page(purpose: str, token: str, template: str,
                       done_message: str) -> ResponseReturnValue:
    valid = tokens.peek(purpose, token)
    if valid is None or valid.user_id is None:
        return render_template("auth/link_invalid.html"), 410
    user = db.session.get(User, valid.user_id)
    form = NewPasswordForm()
    if form.validate_on_submit():
        # The account is checked before the link is used: a refused link stays unused.
        if user is None or not user.active or tokens.consume(purpose, token) is None:
            return render_template("auth/link_invalid.html"), 410
        accounts.set_password(user, form.password.data,
                              action=f"account.password_set.{purpose}")
        flash(done_message, "success")
        if user.has_2fa:
            # The link proves the mailbox, not the phone: the second factor still applies.
            hold_for_second_factor(user, None)
            return see_other("auth.second_factor")
        start_session(user, method=purpose)
        return see_other("main.dashboard")
    return render_template(template, form=form, user=user), 422 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    return _set_password_page(accounts.RESET, token, "auth/reset.html",
                              _("Your new password is set."))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> ResponseReturnValue:
    return _set_password_page(accounts.INVITE, token, "auth/accept_invitation.html",
                              _("Welcome! Your account is ready."))


@bp.route("/account/password", methods=["GET", "POST"])
@own_password_limits()
@login_required
def change_password() -> ResponseReturnValue:
    user = current_account()  # not the proxy: login_user keeps it
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.current.data):
            refuse_password()
            form.current.errors.append(_("This is not your current password."))
        else:
            accounts.set_password(user, form.password.data, action="account.password_changed")
            start_session(user, method="password-change")
            flash(_("Your password is changed. Other sessions were signed out."), "success")
            return see_other("accounts.profile")
    return render_template("auth/change_password.html", form=form), 422 if form.errors else 200


@bp.app_errorhandler(429)
def too_many(_error: HTTPException) -> ResponseReturnValue:
    """Refused before the view (the commit point has rolled back whatever it began): the
    page and the Retry-After header say when the breached limit lets the next try in."""
    breached = [limit for limit in limiter.current_limits if limit.breached]
    now = time.time()
    wait = max((math.ceil(limit.window.reset_time - now) for limit in breached), default=60)
    wait = max(wait, 1)
    minutes = max((wait + 59) // 60, 1)
    return render_template("errors/429.html", minutes=minutes), 429, {"Retry-After": str(wait)}
