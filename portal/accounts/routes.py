"""A person's own profile, and nominators inviting colleagues of their institution."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.accounts import bp, services
from portal.accounts.forms import ColleagueInviteForm, ProfileForm
from portal.accounts.models import Role, User
from portal.accounts.policy import role_required
from portal.audit.services import record
from portal.extensions import db
from portal.i18n import timezone_choices


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    form.timezone.choices = [("", _("Guess from my institution or browser")),
                             *timezone_choices()]
    if form.validate_on_submit():
        before = {"name": current_user.name, "language": current_user.language,
                  "timezone": current_user.timezone}
        current_user.name = form.name.data.strip()
        current_user.language = form.language.data
        current_user.timezone = form.timezone.data or None
        after = {"name": current_user.name, "language": current_user.language,
                 "timezone": current_user.timezone}
        if before != after:
            record("account.profile_changed", object_type="user", object_id=current_user.id,
                   details={k: v for k, v in after.items() if before[k] != v})
        db.session.commit()
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("accounts.profile"), 303)
    return render_template("accounts/profile.html", form=form), 422 if form.errors else 200


@bp.route("/institution/people", methods=["GET", "POST"])
@role_required(Role.NOMINATOR)
def colleagues():
    """Nominators see and invite the nominators of their own institution only."""
    form = ColleagueInviteForm()
    if form.validate_on_submit():
        try:
            services.invite(
                email=form.email.data, name=form.name.data, roles=[Role.NOMINATOR],
                inviter=current_user, institution_id=current_user.institution_id,
                language=form.language.data,
            )
        except services.AccountError as exc:
            form.email.errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("accounts.colleagues"), 303)
    people = db.session.scalars(
        select(User)
        .where(User.institution_id == current_user.institution_id)
        .order_by(User.name)
    ).all()
    nominators = [p for p in people if p.has_role(Role.NOMINATOR)]
    return render_template("accounts/colleagues.html", form=form, people=nominators), (
        422 if form.errors else 200
    )
