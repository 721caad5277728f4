"""The institution's workspace: overview, drafts in sections, submit, withdraw."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from portal.accounts.models import Role
from portal.accounts.policy import role_required
from portal.cycles.models import Cycle, Specialty
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations import bp, confirmations, dashboard, duplicates, policy, services, workflow
from portal.nominations.forms import SECTION_FORMS, WithdrawForm, section_form, valid_values
from portal.nominations.models import COUNTED_STATES, Nomination
from portal.nominations.uploads import CHUNK_THRESHOLD, accept_attr, accepted_label
from portal.web import is_htmx, page_or_partial

nominator_required = role_required(Role.NOMINATOR)
viewer_required = role_required(Role.NOMINATOR, Role.STAFF)

LOAD = (joinedload(Nomination.cycle), joinedload(Nomination.institution),
        joinedload(Nomination.specialty))


def load_nomination(nomination_id: int) -> Nomination:
    return policy.get_visible_nomination_or_404(current_user, nomination_id, *LOAD)


def workspace(nomination: Nomination) -> dict:
    """Everything the nomination page and its fragments show. Related rows come from the
    identity map (a commit earlier in the request expired the loaded relationships)."""
    cycle = db.session.get(Cycle, nomination.cycle_id)
    institution = db.session.get(Institution, nomination.institution_id)
    specialty = db.session.get(Specialty, nomination.specialty_id) \
        if nomination.specialty_id else None
    checklist = services.load_checklist(nomination, cycle)
    status = confirmations.status(nomination)
    counted = None
    if cycle.max_submissions_per_institution is not None:
        from sqlalchemy import func, select

        counted = db.session.scalar(select(func.count(Nomination.id)).where(
            Nomination.cycle_id == cycle.id, Nomination.institution_id == nomination.institution_id,
            Nomination.state.in_(COUNTED_STATES)))
    editable = policy.may_edit(current_user, nomination)
    return {
        "nomination": nomination, "cycle": cycle, "institution": institution,
        "specialty": specialty,
        "checklist": checklist, "status": status, "editable": editable,
        "reasons": workflow.blocking_reasons(nomination, cycle) if editable else [],
        "flags": duplicates.visible_flags(nomination.duplicate_flags or [], current_user),
        "countdown": dashboard.countdown(cycle.closes_at), "counted": counted,
        "may_withdraw": policy.may_withdraw(current_user, nomination),
        "states": services.STATE_LABELS, "field_labels": services.FIELD_LABELS,
        "chunk_threshold": CHUNK_THRESHOLD, "accept_attr": accept_attr,
        "accepted_label": accepted_label,
    }


@bp.route("/nominations")
@nominator_required
def index():
    return render_template("nominations/index.html",
                           overview=dashboard.overview(current_user.institution_id),
                           states=services.STATE_LABELS)


@bp.post("/nominations/new")
@nominator_required
def create():
    cycle = db.session.get(Cycle, request.form.get("cycle_id", type=int) or 0)
    institution = db.session.get(Institution, current_user.institution_id)
    if cycle is None or not cycle.is_open():
        flash(_("Nominations cannot be started for this cycle now."), "error")
        return redirect(url_for("nominations.index"), 303)
    if institution is None or not institution.is_active:
        abort(403)
    try:
        nomination = services.create_draft(cycle, institution, current_user)
    except services.NominationError as e:
        flash(str(e.message), "error")
        return redirect(url_for("nominations.index"), 303)
    db.session.commit()
    return redirect(url_for("nominations.edit", nomination_id=nomination.id), 303)


@bp.route("/nominations/<int:nomination_id>")
@viewer_required
def show(nomination_id: int):
    nomination = load_nomination(nomination_id)
    return render_template("nominations/show.html", history=workflow.history(nomination),
                           **workspace(nomination))


@bp.route("/nominations/<int:nomination_id>/panel")
@viewer_required
def panel(nomination_id: int):
    """The status panel (complete? what blocks submission?), refreshed after uploads."""
    nomination = load_nomination(nomination_id)
    return render_template("nominations/_panel.html", **workspace(nomination))


def _forms(nomination: Nomination) -> dict:
    cycle = db.session.get(Cycle, nomination.cycle_id)
    return {name: section_form(name, cycle, nomination) for name in SECTION_FORMS}


@bp.route("/nominations/<int:nomination_id>/edit")
@nominator_required
def edit(nomination_id: int):
    nomination = load_nomination(nomination_id)
    if not nomination.editable:
        flash(_("This nomination has been submitted and can no longer be changed."), "warning")
        return redirect(url_for("nominations.show", nomination_id=nomination.id), 303)
    return render_template("nominations/edit.html", forms=_forms(nomination),
                           titles=services.SECTION_TITLES, saved=None, **workspace(nomination))


@bp.post("/nominations/<int:nomination_id>/sections/<section>")
@nominator_required
def save_section(nomination_id: int, section: str):
    nomination = load_nomination(nomination_id)
    if section not in SECTION_FORMS:
        abort(404)
    if not policy.may_edit(current_user, nomination):
        message = _("This nomination has been submitted and can no longer be changed.")
        flash(message, "warning")
        show = url_for("nominations.show", nomination_id=nomination.id)
        if is_htmx():  # another tab submitted it: htmx takes the browser to the page
            return render_template("nominations/_locked.html", message=message), 409, {
                "HX-Redirect": show}
        return redirect(show, 303)
    form = section_form(section, db.session.get(Cycle, nomination.cycle_id),
                        formdata=request.form)
    ok = form.validate()
    services.update_fields(nomination, valid_values(form), current_user)
    db.session.commit()
    status = 200 if ok else 422
    if is_htmx():
        return render_template("nominations/_section.html", name=section, form=form,
                               title=services.SECTION_TITLES[section], saved=ok,
                               nomination=nomination,
                               notes=services.load_checklist(nomination).field_notes,
                               flags=duplicates.visible_flags(nomination.duplicate_flags or [],
                                                              current_user)), status
    if ok:
        flash(_("Saved."), "success")
        return redirect(url_for("nominations.edit", nomination_id=nomination.id,
                                _anchor=f"section-{section}"), 303)
    forms = _forms(nomination)
    forms[section] = form
    return render_template("nominations/edit.html", forms=forms, titles=services.SECTION_TITLES,
                           saved=None, **workspace(nomination)), 422


@bp.post("/nominations/<int:nomination_id>/submit")
@nominator_required
def submit(nomination_id: int):
    nomination = load_nomination(nomination_id)
    try:
        workflow.submit(nomination, current_user)
    except workflow.WorkflowError as e:
        db.session.rollback()
        if e.code == "already_done":  # a double click or a second tab: already done
            flash(_("This nomination has already been submitted."), "info")
        else:
            flash(str(e.message), "error")
        return redirect(url_for("nominations.show", nomination_id=nomination_id), 303)
    db.session.commit()
    flash(_("Submitted. A receipt listing every file was sent to %(email)s.",
            email=current_user.email), "success")
    return redirect(url_for("nominations.show", nomination_id=nomination_id), 303)


@bp.route("/nominations/<int:nomination_id>/withdraw", methods=["GET", "POST"])
@nominator_required
def withdraw(nomination_id: int):
    nomination = load_nomination(nomination_id)
    if not policy.may_withdraw(current_user, nomination):
        flash(_("This nomination cannot be withdrawn."), "warning")
        return redirect(url_for("nominations.show", nomination_id=nomination.id), 303)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            workflow.withdraw(nomination, current_user, form.reason.data)
        except workflow.WorkflowError as e:
            db.session.rollback()
            flash(str(e.message), "warning")
        else:
            db.session.commit()
            flash(_("The nomination was withdrawn."), "success")
        return redirect(url_for("nominations.show", nomination_id=nomination_id), 303)
    return render_template("nominations/withdraw.html", form=form, nomination=nomination,
                           states=services.STATE_LABELS), 422 if form.errors else 200


@bp.post("/nominations/<int:nomination_id>/confirmations/<kind>")
@nominator_required
def request_confirmation(nomination_id: int, kind: str):
    if kind not in confirmations.KINDS:
        abort(404)
    nomination = load_nomination(nomination_id)
    try:
        confirmation = confirmations.request(nomination, kind, current_user)
    except confirmations.ConfirmationError as e:
        db.session.rollback()
        flash(str(e.message), "error")
    else:
        db.session.commit()
        flash(_("A one-time link was sent to %(email)s.", email=confirmation.email), "success")
    if is_htmx():
        return page_or_partial("nominations/show.html", "nominations/_panel.html",
                               **workspace(nomination))
    return redirect(url_for("nominations.show", nomination_id=nomination_id), 303)
