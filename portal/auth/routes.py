"""Sign in, sign out, forgotten password, invitations, change password."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import tokens
from portal.accounts import services as accounts
from portal.audit.services import record
from portal.auth import bp
from portal.auth.forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, NewPasswordForm
from portal.auth.login import (
    check_credentials,
    end_session,
    hold_for_second_factor,
    login_key,
    login_limit,
    start_session,
)
from portal.auth.passwords import verify_password
from portal.extensions import db, limiter
from portal.security import safe_next


def _failed(response) -> bool:  # noqa: ANN001
    # Only refused attempts count against the limit; a successful login redirects.
    return response.status_code != 303


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, key_func=login_key, methods=["POST"], deduct_when=_failed,
               scope="login-account")
@limiter.limit(login_limit, methods=["POST"], deduct_when=_failed, scope="login-ip")
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = check_credentials(form.email.data, form.password.data)
        if user is None:
            db.session.commit()  # keep the audit record of the failure
            flash(_("E-mail or password is not right."), "error")
            return render_template("auth/login.html", form=form), 401
        if user.has_2fa:
            hold_for_second_factor(user, form.next.data)
            db.session.commit()
            return redirect(url_for("auth.second_factor"), 303)
        start_session(user)
        db.session.commit()
        return redirect(safe_next(form.next.data), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    end_session(current_user)
    db.session.commit()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"], scope="forgot-ip")
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        db.session.commit()
        # The same answer whether or not the address has an account.
        flash(_("If an account uses this address, a link to set a new password is on its "
                "way. It works once and expires soon."), "info")
        return redirect(url_for("auth.login"), 303)
    return render_template("auth/forgot.html", form=form), 422 if form.errors else 200


def _set_password_page(purpose: str, token: str, template: str, done_message: str):  # noqa: ANN202
    valid = tokens.peek(purpose, token)
    if valid is None or valid.user_id is None:
        return render_template("auth/link_invalid.html"), 410
    form = NewPasswordForm()
    if form.validate_on_submit():
        used = tokens.consume(purpose, token)
        user = db.session.get(accounts.User, used.user_id) if used else None
        if user is None or not user.active:
            db.session.rollback()
            return render_template("auth/link_invalid.html"), 410
        accounts.set_password(user, form.password.data)
        record(f"account.password_set.{purpose}", actor=user, object_type="user",
               object_id=user.id)
        if user.has_2fa:
            # The link proves the mailbox, not the phone: the second factor still applies.
            hold_for_second_factor(user, None)
            db.session.commit()
            flash(done_message, "success")
            return redirect(url_for("auth.second_factor"), 303)
        start_session(user, method=purpose)
        db.session.commit()
        flash(done_message, "success")
        return redirect(url_for("main.dashboard"), 303)
    user = db.session.get(accounts.User, valid.user_id)
    return render_template(template, form=form, user=user), 422 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _set_password_page(accounts.RESET, token, "auth/reset.html",
                              _("Your new password is set."))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return _set_password_page(accounts.INVITE, token, "auth/accept_invitation.html",
                              _("Welcome! Your account is ready."))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current.data):
            form.current.errors.append(_("This is not your current password."))
        else:
            user = current_user._get_current_object()  # not the proxy: login_user keeps it
            accounts.set_password(user, form.password.data)
            record("account.password_changed", object_type="user", object_id=user.id)
            start_session(user, method="password-change")
            db.session.commit()
            flash(_("Your password is changed. Other sessions were signed out."), "success")
            return redirect(url_for("accounts.profile"), 303)
    return render_template("auth/change_password.html", form=form), 422 if form.errors else 200


@bp.app_errorhandler(429)
def too_many(_error):  # noqa: ANN001, ANN202
    db.session.rollback()
    return render_template("errors/429.html"), 429


