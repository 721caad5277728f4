"""Staff pages: the list of cycles, a cycle's settings, its document requirements."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from portal.accounts.policy import staff_required
from portal.cycles import bp, services
from portal.cycles.forms import CopyForm, CycleForm, RequirementForm
from portal.cycles.models import Cycle, DocumentRequirement
from portal.extensions import db
from portal.i18n import timezone_choices
from portal.nominations.models import Nomination


def _requirement_or_404(cycle: Cycle, requirement_id: int) -> DocumentRequirement:
    requirement = db.session.get(DocumentRequirement, requirement_id)
    if requirement is None or requirement.cycle_id != cycle.id:
        abort(404)
    return requirement


def _with_choices(form: CycleForm) -> CycleForm:
    form.window_timezone.choices = timezone_choices()
    return form


@bp.route("/admin/cycles")
@staff_required
def index():
    cycles = db.session.scalars(select(Cycle).order_by(Cycle.opens_at.desc())).all()
    counts = dict(db.session.execute(
        select(Nomination.cycle_id, func.count(Nomination.id)).group_by(Nomination.cycle_id)
    ).all())
    return render_template("cycles/index.html", cycles=cycles, counts=counts)


@bp.route("/admin/cycles/new", methods=["GET", "POST"])
@staff_required
def create():
    form = _with_choices(CycleForm(data={"window_timezone": "Asia/Tokyo",
                                         "english_evidence_required": True,
                                         "endorsement_required": True,
                                         "prior_participation": "lower_priority"}))
    if form.validate_on_submit():
        try:
            cycle = services.create(form.data, current_user)
        except services.CycleError as e:
            db.session.rollback()
            form.name.errors.append(str(e.message))
        else:
            db.session.commit()
            flash(_("Cycle created. Now add the documents it asks for."), "success")
            return redirect(url_for("cycles.edit", cycle_id=cycle.id), 303)
    return render_template("cycles/form.html", form=form, cycle=None), (
        422 if form.errors else 200)


def _edit_page(cycle: Cycle, form: CycleForm, status: int = 200,
               requirement_form: RequirementForm | None = None):  # noqa: ANN202
    return render_template(
        "cycles/form.html", form=form, cycle=cycle,
        requirement_form=requirement_form or RequirementForm(formdata=None),
        copy_form=CopyForm(formdata=None, data={"name": services.next_name(cycle.name)}),
    ), status


@bp.route("/admin/cycles/<int:cycle_id>", methods=["GET", "POST"])
@staff_required
def edit(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = _with_choices(CycleForm(data=services.form_data(cycle)))
    if form.validate_on_submit():
        try:
            services.update(cycle, form.data, current_user)
        except services.CycleError as e:
            db.session.rollback()
            cycle = db.get_or_404(Cycle, cycle_id)
            form.name.errors.append(str(e.message))
        else:
            db.session.commit()
            flash(_("Cycle saved."), "success")
            return redirect(url_for("cycles.edit", cycle_id=cycle.id), 303)
    return _edit_page(cycle, form, 422 if form.errors else 200)


@bp.post("/admin/cycles/<int:cycle_id>/publish")
@staff_required
def publish(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    try:
        services.publish(cycle, current_user)
    except services.CycleError as e:
        db.session.rollback()
        flash(str(e.message), "error")
    else:
        db.session.commit()
        flash(_("Published: institutions can nominate inside the window."), "success")
    return redirect(url_for("cycles.edit", cycle_id=cycle_id), 303)


@bp.post("/admin/cycles/<int:cycle_id>/close")
@staff_required
def close(cycle_id: int):
    services.close(db.get_or_404(Cycle, cycle_id), current_user)
    db.session.commit()
    flash(_("Cycle closed and archived."), "success")
    return redirect(url_for("cycles.edit", cycle_id=cycle_id), 303)


@bp.post("/admin/cycles/<int:cycle_id>/copy")
@staff_required
def copy(cycle_id: int):
    source = db.get_or_404(Cycle, cycle_id)
    form = CopyForm()
    if not form.validate_on_submit():
        flash(_("Give the new cycle a name."), "error")
        return redirect(url_for("cycles.edit", cycle_id=cycle_id), 303)
    try:
        cycle = services.copy(source, current_user, form.name.data)
    except services.CycleError as e:
        db.session.rollback()
        flash(str(e.message), "error")
        return redirect(url_for("cycles.edit", cycle_id=cycle_id), 303)
    db.session.commit()
    flash(_("Copied as a draft with its dates moved one year on. Check them before "
            "publishing."), "success")
    return redirect(url_for("cycles.edit", cycle_id=cycle.id), 303)


@bp.post("/admin/cycles/<int:cycle_id>/requirements")
@staff_required
def add_requirement(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = RequirementForm()
    if form.validate_on_submit():
        try:
            services.add_requirement(cycle, form.data, current_user)
        except services.CycleError as e:
            db.session.rollback()
            cycle = db.get_or_404(Cycle, cycle_id)
            form.code.errors.append(str(e.message))
        else:
            db.session.commit()
            flash(_("Document added."), "success")
            return redirect(url_for("cycles.edit", cycle_id=cycle.id, _anchor="requirements"),
                            303)
    cycle_form = _with_choices(CycleForm(formdata=None, data=services.form_data(cycle)))
    return _edit_page(cycle, cycle_form, 422, requirement_form=form)


@bp.route("/admin/cycles/<int:cycle_id>/requirements/<int:requirement_id>",
          methods=["GET", "POST"])
@staff_required
def edit_requirement(cycle_id: int, requirement_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    requirement = _requirement_or_404(cycle, requirement_id)
    form = RequirementForm(obj=requirement)
    if form.validate_on_submit():
        try:
            services.update_requirement(cycle, requirement, form.data, current_user)
        except services.CycleError as e:
            db.session.rollback()
            form.code.errors.append(str(e.message))
        else:
            db.session.commit()
            flash(_("Document saved."), "success")
            return redirect(url_for("cycles.edit", cycle_id=cycle.id, _anchor="requirements"),
                            303)
    return render_template("cycles/requirement.html", form=form, cycle=cycle,
                           requirement=requirement), 422 if form.errors else 200


@bp.post("/admin/cycles/<int:cycle_id>/requirements/<int:requirement_id>/delete")
@staff_required
def delete_requirement(cycle_id: int, requirement_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    requirement = _requirement_or_404(cycle, requirement_id)
    try:
        services.delete_requirement(cycle, requirement, current_user)
    except services.CycleError as e:
        db.session.rollback()
        flash(str(e.message), "error")
    else:
        db.session.commit()
        flash(_("Document removed from the cycle."), "success")
    return redirect(url_for("cycles.edit", cycle_id=cycle_id, _anchor="requirements"), 303)
