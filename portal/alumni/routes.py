"""The alumnus' own profile and the alumni directory."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Role
from portal.accounts.policy import role_required
from portal.alumni import bp, policy, services
from portal.alumni.forms import ProfileForm
from portal.alumni.services import Filters
from portal.extensions import db
from portal.web import page_or_partial

PAGE = 30


@bp.route("/alumni/profile", methods=["GET", "POST"])
@role_required(Role.ALUMNUS)
def profile():
    """Always the signed-in person's own record: there is no id to change in the URL."""
    alumnus = services.alumnus_for_user(current_user)
    if alumnus is None:
        return render_template("alumni/profile.html", alumnus=None, form=None)
    form = ProfileForm(obj=alumnus).with_choices()
    if form.validate_on_submit():
        services.update_profile(alumnus, form.data, current_user)
        db.session.commit()
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("alumni.profile"), 303)
    percent, missing = services.completeness(alumnus)
    return render_template("alumni/profile.html", alumnus=alumnus, form=form, percent=percent,
                           missing=missing, choices=services.filter_values()), (
        422 if form.errors else 200)


@bp.route("/alumni/directory")
@role_required(Role.ALUMNUS, Role.STAFF)
def directory():
    filters = Filters.from_args(request.args)
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = services.page_of(policy.directory_query(filters), page, PAGE)
    me = services.alumnus_for_user(current_user)
    return page_or_partial(
        "alumni/directory.html", "alumni/_directory_list.html",
        entries=[policy.directory_entry(a) for a in rows], total=total, page=page,
        pages=max((total - 1) // PAGE + 1, 1), filters=filters,
        args={k: v for k, v in filters.as_args().items() if k != "has_account"},
        choices=services.filter_values(directory=True), me=me)
