"""The institution's workspace: overview, drafts in sections, submit, withdraw."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload

from portal.accounts.models import Role
from portal.accounts.policy import role_required
from portal.cycles.models import Cycle, Specialty
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations import (
    bp,
    confirmations,
    dashboard,
    duplicates,
    history,
    policy,
    services,
    workflow,
)
from portal.nominations.forms import (
    SECTION_FORMS,
    SectionForm,
    WithdrawForm,
    section_form,
    valid_values,
)
from portal.nominations.labels import FIELD_LABELS, KIND_LABELS, SECTION_TITLES, STATE_LABELS
from portal.nominations.models import Nomination
from portal.nominations.origin import request_origin
from portal.nominations.uploads import accept_attr, accepted_label, chunk_threshold
from portal.web import back_to, is_htmx, page_or_partial, see_other

nominator_required = role_required(Role.NOMINATOR)
viewer_required = role_required(Role.NOMINATOR, Role.STAFF)

LOAD = (joinedload(Nomination.cycle), joinedload(Nomination.institution),
        joinedload(Nomination.specialty))
LOCKED = _l("This nomination has been submitted and can no longer be changed.")


def load_nomination(nomination_id: int) -> Nomination:
    return policy.get_visible_nomination_or_404(current_user, nomination_id, *LOAD)


def workspace(nomination: Nomination) -> dict[str, Any]:
    """Everything the nomination page and its fragments show. Related rows come from the
    identity map (loaded with the nomination)."""
    cycle = db.session.get(Cycle, nomination.cycle_id)
    institution = db.session.get(Institution, nomination.institution_id)
    assert cycle is not None and institution is not None  # foreign keys
    specialty = db.session.get(Specialty, nomination.specialty_id) \
        if nomination.specialty_id else None
    editable = policy.may_edit(current_user, nomination)
    return {
        "nomination": nomination, "cycle": cycle, "institution": institution,
        "specialty": specialty,
        "checklist": services.load_checklist(nomination, cycle),
        "status": confirmations.status(nomination), "editable": editable,
        "reasons": workflow.blocking_reasons(nomination, cycle) if editable else [],
        "flags": duplicates.visible_flags(nomination.duplicate_flags or [], current_user),
        "countdown": dashboard.countdown(cycle.closes_at),
        "counted": dashboard.counted(cycle, nomination.institution_id),
        "may_submit": policy.may_submit(current_user, nomination),
        "may_withdraw": policy.may_withdraw(current_user, nomination),
        "states": STATE_LABELS, "field_labels": FIELD_LABELS, "kind_labels": KIND_LABELS,
        "chunk_threshold": chunk_threshold(), "accept_attr": accept_attr,
        "accepted_label": accepted_label,
    }


@bp.route("/nominations")
@nominator_required
def index() -> ResponseReturnValue:
    return render_template("nominations/index.html",
                           overview=dashboard.overview(current_user.institution_id),
                           states=STATE_LABELS)


@bp.post("/nominations/new")
@nominator_required
def create() -> ResponseReturnValue:
    cycle = db.session.get(Cycle, request.form.get("cycle_id", type=int) or 0)
    institution = db.session.get(Institution, current_user.institution_id)
    if institution is None or not institution.is_active:
        abort(403)
    back_to(url_for("nominations.index"))
    nomination = services.create_draft(cycle, institution, current_user)
    return see_other("nominations.edit", nomination_id=nomination.id)


@bp.route("/nominations/<int:nomination_id>")
@viewer_required
def show(nomination_id: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    return render_template("nominations/show.html", history=history.events_of(nomination),
                           **workspace(nomination))


@bp.route("/nominations/<int:nomination_id>/panel")
@viewer_required
def panel(nomination_id: int) -> ResponseReturnValue:
    """The status panel (complete? what blocks submission?), refreshed after uploads."""
    nomination = load_nomination(nomination_id)
    return render_template("nominations/_panel.html", **workspace(nomination))


def _forms(nomination: Nomination) -> dict[str, SectionForm]:
    cycle = db.session.get(Cycle, nomination.cycle_id)
    assert cycle is not None  # a foreign key
    return {name: section_form(name, cycle, nomination) for name in SECTION_FORMS}


@bp.route("/nominations/<int:nomination_id>/edit")
@nominator_required
def edit(nomination_id: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    if not nomination.editable:
        flash(str(LOCKED), "warning")
        return see_other("nominations.show", nomination_id=nomination.id)
    return render_template("nominations/edit.html", forms=_forms(nomination),
                           titles=SECTION_TITLES, saved=None, **workspace(nomination))


@bp.post("/nominations/<int:nomination_id>/sections/<section>")
@nominator_required
def save_section(nomination_id: int, section: str) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    if section not in SECTION_FORMS:
        abort(404)
    if not policy.may_edit(current_user, nomination):
        message = str(LOCKED)
        flash(message, "warning")
        show = url_for("nominations.show", nomination_id=nomination.id)
        if is_htmx():  # another tab submitted it: htmx takes the browser to the page
            return render_template("nominations/_locked.html", message=message), 409, {
                "HX-Redirect": show}
        return redirect(show, 303)
    cycle = db.session.get(Cycle, nomination.cycle_id)
    assert cycle is not None  # a foreign key
    form = section_form(section, cycle, formdata=request.form)
    ok = form.validate()
    # What passed its checks is kept (a draft keeps what is right so far), also on 422.
    services.update_fields(nomination, valid_values(form), current_user)
    status = 200 if ok else 422
    if is_htmx():
        return render_template("nominations/_section.html", name=section, form=form,
                               title=SECTION_TITLES[section], saved=ok,
                               nomination=nomination,
                               notes=services.load_checklist(nomination).field_notes,
                               flags=duplicates.visible_flags(nomination.duplicate_flags or [],
                                                              current_user)), status
    if ok:
        flash(_("Saved."), "success")
        return see_other("nominations.edit", nomination_id=nomination.id,
                         _anchor=f"section-{section}")
    forms = _forms(nomination)
    forms[section] = form
    return render_template("nominations/edit.html", forms=forms, titles=SECTION_TITLES,
                           saved=None, **workspace(nomination)), 422


@bp.post("/nominations/<int:nomination_id>/submit")
@nominator_required
def submit(nomination_id: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    back_to(url_for("nominations.show", nomination_id=nomination_id))
    workflow.submit(nomination, current_user)
    flash(_("Submitted. A receipt listing every file was sent to %(email)s.",
            email=current_user.email), "success")
    return see_other("nominations.show", nomination_id=nomination_id)


@bp.route("/nominations/<int:nomination_id>/withdraw", methods=["GET", "POST"])
@nominator_required
def withdraw(nomination_id: int) -> ResponseReturnValue:
    nomination = load_nomination(nomination_id)
    if not policy.may_withdraw(current_user, nomination):
        flash(_("This nomination cannot be withdrawn."), "warning")
        return see_other("nominations.show", nomination_id=nomination.id)
    form = WithdrawForm()
    if form.validate_on_submit():
        back_to(url_for("nominations.show", nomination_id=nomination_id))
        workflow.withdraw(nomination, current_user, form.reason.data)
        flash(_("The nomination was withdrawn."), "success")
        return see_other("nominations.show", nomination_id=nomination_id)
    return render_template("nominations/withdraw.html", form=form, nomination=nomination,
                           states=STATE_LABELS), 422 if form.errors else 200


@bp.post("/nominations/<int:nomination_id>/confirmations/<kind>")
@nominator_required
def request_confirmation(nomination_id: int, kind: str) -> ResponseReturnValue:
    if kind not in confirmations.KINDS:
        abort(404)
    nomination = load_nomination(nomination_id)
    back_to(url_for("nominations.show", nomination_id=nomination_id))
    confirmation = confirmations.request(nomination, kind, current_user, request_origin())
    flash(_("A one-time link was sent to %(email)s.", email=confirmation.email), "success")
    if is_htmx():
        return page_or_partial("nominations/show.html", "nominations/_panel.html",
                               **workspace(nomination))
    return see_other("nominations.show", nomination_id=nomination_id)
