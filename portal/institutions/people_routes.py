"""Staff: people, roles, invitations, deactivation.

The pages are the accounts area's (`accounts.*` endpoints under /admin/people); they live
here because they show and choose institutions, and the accounts area sits below the
institutions area.
"""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portal.accounts import bp, services
from portal.accounts.forms import InviteForm, RolesForm
from portal.accounts.models import Role, User
from portal.accounts.policy import current_account, staff_required
from portal.extensions import db
from portal.institutions import services as institutions
from portal.listing import parse_int
from portal.web import back_to, page_or_partial, see_other


@bp.route("/admin/people")
@staff_required
def people() -> ResponseReturnValue:
    filters = services.PeopleFilters.from_args(request.args)
    return page_or_partial("accounts/people.html", "accounts/_people_table.html",
                           users=services.people_page(filters), filters=filters,
                           roles=list(Role))


@bp.route("/admin/people/invite", methods=["GET", "POST"])
@staff_required
def invite() -> ResponseReturnValue:
    form = InviteForm()
    form.institution_id.choices = institutions.choices()
    if request.method == "GET" and (chosen := parse_int(request.args.get("institution"))):
        form.institution_id.data = chosen
    if form.validate_on_submit():
        try:
            services.invite(
                email=form.email.data, name=form.name.data,
                roles=[Role(r) for r in form.roles.data], inviter=current_account(),
                institution_id=form.institution_id.data or None, language=form.language.data,
            )
        except services.AccountError as exc:  # shown beside the field, the form kept
            form.email.errors.append(str(exc.message))
        else:
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return see_other("accounts.people")
    return render_template("accounts/invite.html", form=form), 422 if form.errors else 200


@bp.route("/admin/people/<int:user_id>", methods=["GET", "POST"])
@staff_required
def person(user_id: int) -> ResponseReturnValue:
    user = db.get_or_404(User, user_id)
    form = RolesForm(roles=[r.role for r in user.role_rows])
    if form.validate_on_submit():
        back_to(url_for("accounts.person", user_id=user.id))
        services.set_roles(user, [Role(r) for r in form.roles.data], current_account())
        flash(_("Roles saved."), "success")
        return see_other("accounts.person", user_id=user.id)
    return render_template("accounts/person.html", user=user, form=form,
                           institution=institutions.of_user(user))


@bp.post("/admin/people/<int:user_id>/deactivate")
@staff_required
def deactivate(user_id: int) -> ResponseReturnValue:
    user = db.get_or_404(User, user_id)
    back_to(url_for("accounts.person", user_id=user.id))
    services.deactivate(user, current_account())
    flash(_("%(name)s can no longer sign in; open sessions have ended.", name=user.name),
          "success")
    return see_other("accounts.person", user_id=user.id)


@bp.post("/admin/people/<int:user_id>/reactivate")
@staff_required
def reactivate(user_id: int) -> ResponseReturnValue:
    user = db.get_or_404(User, user_id)
    services.reactivate(user, current_account())
    flash(_("%(name)s can sign in again.", name=user.name), "success")
    return see_other("accounts.person", user_id=user.id)
