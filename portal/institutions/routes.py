"""Staff manage institutions; anyone may ask for access for a new one."""

from __future__ import annotations

from typing import TypeVar

from flask import current_app, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from portal.accounts import services as accounts
from portal.accounts.policy import current_account, staff_required
from portal.extensions import db, limiter
from portal.i18n import country_choices, timezone_choices
from portal.institutions import bp, services
from portal.institutions.forms import AccessRequestForm, DeclineForm, InstitutionForm
from portal.institutions.models import Institution, InstitutionStatus
from portal.web import back_to, page_or_partial, see_other

F = TypeVar("F", bound=FlaskForm)


def _with_choices(form: F) -> F:
    form.country.choices = [("", "—"), *country_choices()]
    form.timezone.choices = [("", "—"), *timezone_choices()]
    return form


def _request_access_limit() -> str:
    return str(current_app.config["REQUEST_ACCESS_LIMIT"])


@bp.route("/admin/institutions")
@staff_required
def index() -> ResponseReturnValue:
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip()
    institutions, pending = services.listing(status, q)
    return page_or_partial("institutions/index.html", "institutions/_table.html",
                           institutions=institutions, status=status, q=q, pending=pending,
                           statuses=list(InstitutionStatus))


@bp.route("/admin/institutions/new", methods=["GET", "POST"])
@staff_required
def create() -> ResponseReturnValue:
    form = _with_choices(InstitutionForm())
    if form.validate_on_submit():
        institution = services.create(form.data, current_account())
        flash(_("Institution created. Invite its first nominator now."), "success")
        return see_other("institutions.show", institution_id=institution.id)
    return render_template("institutions/form.html", form=form, institution=None), (
        422 if form.errors else 200
    )


@bp.route("/admin/institutions/<int:institution_id>", methods=["GET", "POST"])
@staff_required
def show(institution_id: int) -> ResponseReturnValue:
    institution = db.get_or_404(Institution, institution_id)
    form = _with_choices(InstitutionForm(obj=institution))
    if form.validate_on_submit():
        services.update(institution, form.data, current_account())
        flash(_("Institution saved."), "success")
        return see_other("institutions.show", institution_id=institution.id)
    return render_template("institutions/form.html", form=form, institution=institution,
                           people=services.nominators(institution),
                           conflicts=accounts.colleague_conflicts(institution.id),
                           decline_form=DeclineForm()), 422 if form.errors else 200


@bp.post("/admin/institutions/<int:institution_id>/approve")
@staff_required
def approve(institution_id: int) -> ResponseReturnValue:
    institution = db.get_or_404(Institution, institution_id)
    back_to(url_for("institutions.show", institution_id=institution.id))
    services.approve(institution, current_account(), str(get_locale() or "en"))
    flash(_("Approved. %(email)s was invited as nominator.",
            email=institution.contact_email), "success")
    return see_other("institutions.show", institution_id=institution.id)


@bp.post("/admin/institutions/<int:institution_id>/decline")
@staff_required
def decline(institution_id: int) -> ResponseReturnValue:
    institution = db.get_or_404(Institution, institution_id)
    back_to(url_for("institutions.show", institution_id=institution.id))
    form = DeclineForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for declining."), "error")
    else:
        services.decline(institution, form.reason.data, current_account())
        flash(_("Declined; the requester was told why."), "success")
    return see_other("institutions.show", institution_id=institution.id)


@bp.route("/request-access", methods=["GET", "POST"])
@limiter.limit(_request_access_limit, methods=["POST"], scope="request-access")
def request_access() -> ResponseReturnValue:
    form = _with_choices(AccessRequestForm())
    if form.validate_on_submit():
        services.request_access(form.data, str(get_locale() or "en"))
        return see_other("institutions.request_sent")
    return render_template("institutions/request_access.html", form=form), (
        422 if form.errors else 200
    )


@bp.route("/request-access/sent")
def request_sent() -> ResponseReturnValue:
    return render_template("institutions/request_sent.html")
