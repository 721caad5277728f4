"""Second factor: the code step after the password, enrolment, recovery codes."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import login_required
from werkzeug.wrappers import Response

from portal.accounts.models import Role, User
from portal.accounts.passwords import verify_password
from portal.accounts.policy import current_account, viewer
from portal.auth import bp, totp
from portal.auth.forms import ConfirmPasswordForm, EnableTwoFactorForm, SecondFactorForm
from portal.auth.login import (
    PENDING_2FA,
    login_account_limit,
    login_limit,
    own_password_limits,
    pending_second_factor,
    refuse_password,
    second_factor_limit,
    start_session,
)
from portal.extensions import limiter
from portal.security import safe_next
from portal.web import see_other

ENROL_SECRET = "totp_enrol_secret"  # noqa: S105  (a session key, not a secret)


def _pending_uid() -> str:
    return str((session.get(PENDING_2FA) or {}).get("uid", ""))


def _pending_account() -> str:
    """Rate-limit key of the code step: the account whose password was just given."""
    return f"2fa-acct:{_pending_uid()}"


def _pending_pair() -> str:
    """... from this address (wrong codes from one address lock out only that address)."""
    return f"2fa-pair:{_pending_uid()}|{get_remote_address()}"


def _wrong_code(response: Response) -> bool:
    return response.status_code == 401


@bp.route("/login/verify", methods=["GET", "POST"])
@limiter.limit(second_factor_limit, methods=["POST"], scope="2fa-ip")
@limiter.limit(login_limit, key_func=_pending_pair, methods=["POST"], deduct_when=_wrong_code,
               scope="2fa-pair")
@limiter.limit(login_account_limit, key_func=_pending_account, methods=["POST"],
               deduct_when=_wrong_code, scope="2fa-account")
def second_factor() -> ResponseReturnValue:
    user, next_url = pending_second_factor()
    if user is None:
        flash(_("Please sign in again."), "info")
        return see_other("auth.login")
    form = SecondFactorForm()
    if form.validate_on_submit():
        code = form.code.data.strip()
        if totp.use_code(user, code):
            start_session(user, method="password+totp")
        elif totp.use_recovery_code(user, code):
            start_session(user, method="password+recovery-code")
            flash(_("You used a recovery code. Each code works once."), "warning")
        else:
            totp.refuse_code(user)
            form.code.errors.append(_("This code is not right. Try the newest code."))
            return render_template("auth/second_factor.html", form=form), 401
        return redirect(safe_next(next_url), 303)
    return render_template("auth/second_factor.html", form=form), 422 if form.errors else 200


@bp.route("/account/2fa")
@login_required
def two_factor() -> ResponseReturnValue:
    user = current_account()
    secret = session.get(ENROL_SECRET)
    qr = None
    if secret and not user.has_2fa:
        qr = totp.qr_svg(totp.provisioning_uri(user, secret))
    return render_template(
        "auth/two_factor.html", qr=qr, secret=secret, enable_form=EnableTwoFactorForm(),
        disable_form=ConfirmPasswordForm(), required=_required_for(user),
    )


def _required_for(user: User) -> bool:
    return bool(current_app.config["REQUIRE_2FA_STAFF"]) and user.has_role(Role.STAFF)


@bp.post("/account/2fa/setup")
@login_required
def two_factor_setup() -> ResponseReturnValue:
    if current_account().has_2fa:
        return see_other("auth.two_factor")
    session[ENROL_SECRET] = totp.new_secret()
    return see_other("auth.two_factor")


@bp.post("/account/2fa/enable")
@login_required
def two_factor_enable() -> ResponseReturnValue:
    user = current_account()
    secret = session.get(ENROL_SECRET)
    form = EnableTwoFactorForm()
    if user.has_2fa or not secret:
        return see_other("auth.two_factor")
    step = totp.code_step(secret, form.code.data) if form.validate_on_submit() else None
    if step is None:
        flash(_("The code did not match. Check the time on your phone and try the newest "
                "code."), "error")
        return see_other("auth.two_factor")
    codes = totp.enable(user, secret, step)
    session.pop(ENROL_SECRET, None)
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.post("/account/2fa/disable")
@own_password_limits()
@login_required
def two_factor_disable() -> ResponseReturnValue:
    user = current_account()
    form = ConfirmPasswordForm()
    if _required_for(user):
        abort(403)
    if not form.validate_on_submit() or not verify_password(
        user.password_hash, form.password.data
    ):
        refuse_password()
        flash(_("Your password is needed to turn the second factor off."), "error")
        return see_other("auth.two_factor")
    totp.disable(user)
    flash(_("Two-step sign-in is off."), "info")
    return see_other("auth.two_factor")


def enforce_staff_2fa() -> Response | None:
    """before_request: staff without a second factor may only enrol, when it is required."""
    user = viewer()
    if user is None or user.has_2fa or not _required_for(user):
        return None
    allowed = {"auth.two_factor", "auth.two_factor_setup", "auth.two_factor_enable",
               "auth.logout", "static", "main.set_language", "main.healthz"}
    if request.endpoint in allowed:
        return None
    flash(_("Staff accounts need two-step sign-in. Please set it up now."), "warning")
    return redirect(url_for("auth.two_factor"), 303 if request.method != "GET" else 302)
