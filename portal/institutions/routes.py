"""Staff manage institutions; anyone may ask for access for a new one."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from portal.accounts.models import Role, User, UserRole
from portal.accounts.policy import staff_required
from portal.extensions import db, limiter
from portal.i18n import country_choices, timezone_choices
from portal.institutions import bp, services
from portal.institutions.forms import AccessRequestForm, DeclineForm, InstitutionForm
from portal.institutions.models import Institution, InstitutionStatus
from portal.web import page_or_partial


def _with_choices(form):  # noqa: ANN001, ANN202
    form.country.choices = [("", "—"), *country_choices()]
    form.timezone.choices = [("", "—"), *timezone_choices()]
    return form


@bp.route("/admin/institutions")
@staff_required
def index():
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip()
    query = select(Institution).order_by(Institution.country, Institution.name)
    if status in {str(s) for s in InstitutionStatus}:
        query = query.where(Institution.status == status)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(Institution.name).like(like),
                                func.lower(Institution.city).like(like)))
    institutions = db.session.scalars(query.limit(500)).all()
    pending = db.session.scalar(select(func.count(Institution.id)).where(
        Institution.status == InstitutionStatus.REQUESTED))
    return page_or_partial("institutions/index.html", "institutions/_table.html",
                           institutions=institutions, status=status, q=q, pending=pending,
                           statuses=list(InstitutionStatus))


@bp.route("/admin/institutions/new", methods=["GET", "POST"])
@staff_required
def create():
    form = _with_choices(InstitutionForm())
    if form.validate_on_submit():
        institution = services.create(form.data, current_user)
        db.session.commit()
        flash(_("Institution created. Invite its first nominator now."), "success")
        return redirect(url_for("institutions.show", institution_id=institution.id), 303)
    return render_template("institutions/form.html", form=form, institution=None), (
        422 if form.errors else 200
    )


@bp.route("/admin/institutions/<int:institution_id>", methods=["GET", "POST"])
@staff_required
def show(institution_id: int):
    institution = db.get_or_404(Institution, institution_id)
    form = _with_choices(InstitutionForm(obj=institution))
    if form.validate_on_submit():
        services.update(institution, form.data, current_user)
        db.session.commit()
        flash(_("Institution saved."), "success")
        return redirect(url_for("institutions.show", institution_id=institution.id), 303)
    people = db.session.scalars(
        select(User).where(User.institution_id == institution.id,
                           User.id.in_(select(UserRole.user_id)
                                       .where(UserRole.role == Role.NOMINATOR)))
        .order_by(User.name)
    ).all()
    return render_template("institutions/form.html", form=form, institution=institution,
                           people=people, decline_form=DeclineForm()), (
        422 if form.errors else 200
    )


@bp.post("/admin/institutions/<int:institution_id>/approve")
@staff_required
def approve(institution_id: int):
    institution = db.get_or_404(Institution, institution_id)
    try:
        services.approve(institution, current_user, str(get_locale() or "en"))
    except services.AlreadyDecided:
        flash(_("This request was already decided."), "warning")
    else:
        db.session.commit()
        flash(_("Approved. %(email)s was invited as nominator.",
                email=institution.contact_email), "success")
    return redirect(url_for("institutions.show", institution_id=institution.id), 303)


@bp.post("/admin/institutions/<int:institution_id>/decline")
@staff_required
def decline(institution_id: int):
    institution = db.get_or_404(Institution, institution_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for declining."), "error")
    else:
        try:
            services.decline(institution, form.reason.data, current_user)
        except services.AlreadyDecided:
            flash(_("This request was already decided."), "warning")
        else:
            db.session.commit()
            flash(_("Declined; the requester was told why."), "success")
    return redirect(url_for("institutions.show", institution_id=institution.id), 303)


@bp.route("/request-access", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"], scope="request-access")
def request_access():
    form = _with_choices(AccessRequestForm())
    if form.validate_on_submit():
        services.request_access(form.data, str(get_locale() or "en"))
        db.session.commit()
        return redirect(url_for("institutions.request_sent"), 303)
    return render_template("institutions/request_access.html", form=form), (
        422 if form.errors else 200
    )


@bp.route("/request-access/sent")
def request_sent():
    return render_template("institutions/request_sent.html")
