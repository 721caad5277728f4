"""A person's own profile, and nominators inviting colleagues of their institution."""

from __future__ import annotations

from flask import flash, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from portal.accounts import bp, services
from portal.accounts.forms import ColleagueInviteForm, ProfileForm
from portal.accounts.models import Role
from portal.accounts.policy import current_account, role_required
from portal.i18n import timezone_choices
from portal.web import see_other


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile() -> ResponseReturnValue:
    user = current_account()
    form = ProfileForm(obj=user)
    form.timezone.choices = [("", _("Guess from my institution or browser")),
                             *timezone_choices()]
    if form.validate_on_submit():
        services.update_profile(user, name=form.name.data, language=form.language.data,
                                timezone=form.timezone.data)
        flash(_("Your profile is saved."), "success")
        return see_other("accounts.profile")
    return render_template("accounts/profile.html", form=form), 422 if form.errors else 200


@bp.route("/institution/people", methods=["GET", "POST"])
@role_required(Role.NOMINATOR)
def colleagues() -> ResponseReturnValue:
    """Nominators see and invite the nominators of their own institution only."""
    user = current_account()
    form = ColleagueInviteForm()
    if form.validate_on_submit():
        # The same answer for every address (an existing account is for staff to sort out).
        services.invite_colleague(email=form.email.data, name=form.name.data, inviter=user,
                                  language=form.language.data)
        flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
        return see_other("accounts.colleagues")
    return render_template(
        "accounts/colleagues.html", form=form, people=services.colleagues_of(user),
        pending=services.pending_colleagues(user.institution_id or 0),
    ), 422 if form.errors else 200
