"""Staff pages: the list of cycles, a cycle's settings, its document requirements."""

from __future__ import annotations

from flask import abort, flash, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.policy import staff_required
from portal.cycles import bp, services
from portal.cycles.forms import CopyForm, CycleForm, RequirementForm
from portal.cycles.models import Cycle, DocumentRequirement, program_timezone
from portal.extensions import db
from portal.i18n import timezone_choices
from portal.web import back_to, see_other


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
def index() -> ResponseReturnValue:
    cycles, counts = services.list_cycles()
    return render_template("cycles/index.html", cycles=cycles, counts=counts)


@bp.route("/admin/cycles/new", methods=["GET", "POST"])
@staff_required
def create() -> ResponseReturnValue:
    form = _with_choices(CycleForm(data={"window_timezone": program_timezone(),
                                         "english_evidence_required": True,
                                         "endorsement_required": True,
                                         "prior_participation": "lower_priority"}))
    if form.validate_on_submit():
        try:
            cycle = services.create(form.data, current_user)
        except services.CycleError as e:  # shown beside the name (checked before any change)
            form.name.errors.append(str(e.message))
        else:
            flash(_("Cycle created. Now add the documents it asks for."), "success")
            return see_other("cycles.edit", cycle_id=cycle.id)
    return render_template("cycles/form.html", form=form, cycle=None), (
        422 if form.errors else 200)


def _edit_page(cycle: Cycle, form: CycleForm, status: int = 200,
               requirement_form: RequirementForm | None = None) -> ResponseReturnValue:
    return render_template(
        "cycles/form.html", form=form, cycle=cycle,
        requirement_form=requirement_form or RequirementForm(formdata=None),
        copy_form=CopyForm(formdata=None, data={"name": services.next_name(cycle.name)}),
    ), status


@bp.route("/admin/cycles/<int:cycle_id>", methods=["GET", "POST"])
@staff_required
def edit(cycle_id: int) -> ResponseReturnValue:
    cycle = db.get_or_404(Cycle, cycle_id)
    form = _with_choices(CycleForm(data=services.form_data(cycle)))
    if form.validate_on_submit():
        try:
            services.update(cycle, form.data, current_user)
        except services.CycleError as e:  # checked before any change: the cycle is as it was
            form.name.errors.append(str(e.message))
        else:
            flash(_("Cycle saved."), "success")
            return see_other("cycles.edit", cycle_id=cycle.id)
    return _edit_page(cycle, form, 422 if form.errors else 200)


@bp.post("/admin/cycles/<int:cycle_id>/publish")
@staff_required
def publish(cycle_id: int) -> ResponseReturnValue:
    cycle = db.get_or_404(Cycle, cycle_id)
    back_to(url_for("cycles.edit", cycle_id=cycle_id))
    services.publish(cycle, current_user)
    flash(_("Published: institutions can nominate inside the window."), "success")
    return see_other("cycles.edit", cycle_id=cycle_id)


@bp.post("/admin/cycles/<int:cycle_id>/close")
@staff_required
def close(cycle_id: int) -> ResponseReturnValue:
    services.close(db.get_or_404(Cycle, cycle_id), current_user)
    flash(_("Cycle closed and archived."), "success")
    return see_other("cycles.edit", cycle_id=cycle_id)


@bp.post("/admin/cycles/<int:cycle_id>/copy")
@staff_required
def copy(cycle_id: int) -> ResponseReturnValue:
    source = db.get_or_404(Cycle, cycle_id)
    form = CopyForm()
    if not form.validate_on_submit():
        flash(_("Give the new cycle a name."), "error")
        return see_other("cycles.edit", cycle_id=cycle_id)
    back_to(url_for("cycles.edit", cycle_id=cycle_id))
    cycle = services.copy(source, current_user, form.name.data)
    flash(_("Copied as a draft with its dates moved one year on. Check them before "
            "publishing."), "success")
    return see_other("cycles.edit", cycle_id=cycle.id)


@bp.post("/admin/cycles/<int:cycle_id>/requirements")
@staff_required
def add_requirement(cycle_id: int) -> ResponseReturnValue:
    cycle = db.get_or_404(Cycle, cycle_id)
    form = RequirementForm()
    if form.validate_on_submit():
        try:
            services.add_requirement(cycle, form.data, current_user)
        except services.CycleError as e:  # shown beside the code (checked before any change)
            form.code.errors.append(str(e.message))
        else:
            flash(_("Document added."), "success")
            return see_other("cycles.edit", cycle_id=cycle.id, _anchor="requirements")
    cycle_form = _with_choices(CycleForm(formdata=None, data=services.form_data(cycle)))
    return _edit_page(cycle, cycle_form, 422, requirement_form=form)


@bp.route("/admin/cycles/<int:cycle_id>/requirements/<int:requirement_id>",
          methods=["GET", "POST"])
@staff_required
def edit_requirement(cycle_id: int, requirement_id: int) -> ResponseReturnValue:
    cycle = db.get_or_404(Cycle, cycle_id)
    requirement = _requirement_or_404(cycle, requirement_id)
    form = RequirementForm(obj=requirement)
    if form.validate_on_submit():
        try:
            services.update_requirement(cycle, requirement, form.data, current_user)
        except services.CycleError as e:  # shown beside the code (checked before any change)
            form.code.errors.append(str(e.message))
        else:
            flash(_("Document saved."), "success")
            return see_other("cycles.edit", cycle_id=cycle.id, _anchor="requirements")
    return render_template("cycles/requirement.html", form=form, cycle=cycle,
                           requirement=requirement), 422 if form.errors else 200


@bp.post("/admin/cycles/<int:cycle_id>/requirements/<int:requirement_id>/delete")
@staff_required
def delete_requirement(cycle_id: int, requirement_id: int) -> ResponseReturnValue:
    cycle = db.get_or_404(Cycle, cycle_id)
    requirement = _requirement_or_404(cycle, requirement_id)
    back_to(url_for("cycles.edit", cycle_id=cycle_id, _anchor="requirements"))
    services.delete_requirement(cycle, requirement, current_user)
    flash(_("Document removed from the cycle."), "success")
    return see_other("cycles.edit", cycle_id=cycle_id, _anchor="requirements")
