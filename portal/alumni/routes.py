"""The alumnus' own profile and the alumni directory."""

from __future__ import annotations

from flask import flash, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portal.accounts.models import Role
from portal.accounts.policy import current_account, role_required
from portal.alumni import bp, policy, services
from portal.alumni.forms import ProfileForm
from portal.alumni.services import DirectoryFilters
from portal.web import page_or_partial, see_other


@bp.route("/alumni/profile", methods=["GET", "POST"])
@role_required(Role.ALUMNUS)
def profile() -> ResponseReturnValue:
    """Always the signed-in person's own record: there is no id to change in the URL."""
    user = current_account()
    alumnus = services.alumnus_for_user(user)
    if alumnus is None:
        return render_template("alumni/profile.html", alumnus=None, form=None)
    form = ProfileForm(obj=alumnus).with_choices()
    if not form.is_submitted():
        for field, value in alumnus.requested_changes.items():  # what they asked for
            form[field].data = value
    if form.validate_on_submit():
        services.update_profile(alumnus, form.data, user)
        flash(_("Your profile is saved."), "success")
        if alumnus.requested_changes:
            flash(_("A new country or specialty is changed once program staff confirm it: "
                    "they decide which events you may join."), "info")
        return see_other("alumni.profile")
    percent, missing = services.completeness(alumnus)
    return render_template("alumni/profile.html", alumnus=alumnus, form=form, percent=percent,
                           missing=missing, choices=services.filter_values()), (
        422 if form.errors else 200)


@bp.route("/alumni/directory")
@role_required(Role.ALUMNUS, Role.STAFF)
def directory() -> ResponseReturnValue:
    filters = DirectoryFilters.from_args(request.args)
    return page_or_partial(
        "alumni/directory.html", "alumni/_directory_list.html",
        entries=policy.directory_page(filters), filters=filters,
        choices=services.filter_values(directory=True),
        me=services.alumnus_for_user(current_account()))
