"""Staff: the alumni list, records, merging, invitations. (Records from a cycle:
portal.intake.alumni_routes.)"""

from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portal.accounts.policy import current_account, staff_required
from portal.alumni import bp, invitations, services
from portal.alumni.forms import AlumnusForm, ChangeDecisionForm, ConfirmForm, MergeForm
from portal.alumni.models import Alumnus
from portal.alumni.services import Filters
from portal.extensions import db
from portal.listing import parse_int
from portal.web import back_to, page_or_partial, see_other


@bp.route("/admin/alumni")
@staff_required
def staff_index() -> ResponseReturnValue:
    filters = Filters.from_args(request.args)
    rows, accounts = services.staff_page(filters)
    return page_or_partial(
        "alumni/staff_index.html", "alumni/_staff_table.html", rows=rows, filters=filters,
        accounts=accounts, choices=services.filter_values(),
        change_requests=services.change_requests_count())


@bp.route("/admin/alumni/new", methods=["GET", "POST"])
@staff_required
def staff_new() -> ResponseReturnValue:
    form = AlumnusForm().with_choices()
    if form.validate_on_submit():
        alumnus = services.create(form.data, current_account())
        flash(_("Record created."), "success")
        return see_other("alumni.staff_edit", alumnus_id=alumnus.id)
    return render_template("alumni/staff_form.html", form=form, alumnus=None,
                           choices=services.filter_values()), 422 if form.errors else 200


@bp.route("/admin/alumni/<int:alumnus_id>", methods=["GET", "POST"])
@staff_required
def staff_edit(alumnus_id: int) -> ResponseReturnValue:
    alumnus = db.get_or_404(Alumnus, alumnus_id)
    form = AlumnusForm(obj=alumnus).with_choices()
    if form.validate_on_submit():
        services.update_record(alumnus, form.data, current_account())
        flash(_("Record saved."), "success")
        return see_other("alumni.staff_edit", alumnus_id=alumnus.id)
    return render_template(
        "alumni/staff_form.html", form=form, alumnus=alumnus,
        account=services.account_of(alumnus), merged=services.history(alumnus),
        survivor=services.resolve(alumnus) if alumnus.merged_into_id else None,
        invitations=services.invitations_of(alumnus), merge_form=MergeForm(),
        decision_form=ChangeDecisionForm(formdata=None), choices=services.filter_values(),
        account_match=invitations.account_match(alumnus),
    ), 422 if form.errors else 200


@bp.post("/admin/alumni/<int:alumnus_id>/changes")
@staff_required
def staff_decide_changes(alumnus_id: int) -> ResponseReturnValue:
    """Confirm or decline the country or specialty the alumnus asked for."""
    alumnus = db.get_or_404(Alumnus, alumnus_id)
    back_to(url_for("alumni.staff_edit", alumnus_id=alumnus.id))
    form = ChangeDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    confirm = form.decision.data == "confirm"
    services.decide_changes(alumnus, confirm=confirm, actor=current_account())
    flash(_("The change is confirmed: the record says so now.") if confirm
          else _("The change is declined; the record stays as it was."), "success")
    return see_other("alumni.staff_edit", alumnus_id=alumnus.id)


@bp.post("/admin/alumni/<int:alumnus_id>/account")
@staff_required
def staff_confirm_account(alumnus_id: int) -> ResponseReturnValue:
    """Staff confirm that the account using the record's address is this alumnus."""
    alumnus = db.get_or_404(Alumnus, alumnus_id)
    back_to(url_for("alumni.staff_edit", alumnus_id=alumnus.id))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = invitations.confirm_account_match(alumnus, current_account())
    flash(_("The record is linked to %(email)s, which is now an alumnus account.",
            email=user.email), "success")
    return see_other("alumni.staff_edit", alumnus_id=alumnus.id)


@bp.route("/admin/alumni/<int:alumnus_id>/merge", methods=["GET", "POST"])
@staff_required
def staff_merge(alumnus_id: int) -> ResponseReturnValue:
    """Merge record `other_id` into this one: GET compares the two, POST merges."""
    target = db.get_or_404(Alumnus, alumnus_id)
    form = MergeForm(formdata=request.values)
    other_id = parse_int(request.values.get("other_id"))  # a record number, or no such record
    if other_id is None:
        abort(404)
    source = db.get_or_404(Alumnus, other_id)
    if request.method == "POST":
        back_to(url_for("alumni.staff_edit", alumnus_id=target.id))
        services.merge(source, target, current_account())
        flash(_("Record #%(a)d was merged into this record; it is kept in its history.",
                a=source.id), "success")
        return see_other("alumni.staff_edit", alumnus_id=target.id)
    labels = AlumnusForm(formdata=None)
    return render_template("alumni/merge.html", target=target, source=source, form=form,
                           fields=[(f, labels[f].label.text) for f in services.MERGE_FILL])


@bp.route("/admin/alumni/invite", methods=["GET", "POST"])
@staff_required
def staff_invite() -> ResponseReturnValue:
    """Invite the records of the list's current filter to claim an account."""
    filters = Filters.from_args(request.args)
    form = ConfirmForm()
    if form.validate_on_submit():
        result = invitations.request_invitations(services.staff_query(filters),
                                                 current_account())
        if result.queued:
            flash(_("%(n)d invitations queued; they go out at %(rate)d per minute.",
                    n=result.queued, rate=invitations.per_minute()), "success")
        flash(_("Not invited: %(recent)d invited recently or queued, %(noemail)d without "
                "e-mail, %(claimed)d with an account already.",
                recent=result.recently_invited, noemail=result.no_email,
                claimed=result.has_account), "info")
        return see_other("alumni.staff_invitations")
    return render_template("alumni/invite.html", form=form, filters=filters,
                           total=services.count(services.staff_query(filters)),
                           args=filters.as_args(), rate=invitations.per_minute(),
                           days=invitations.cooldown().days)


@bp.route("/admin/alumni/invitations")
@staff_required
def staff_invitations() -> ResponseReturnValue:
    return render_template("alumni/invitations.html", counts=invitations.queue_counts(),
                           failed=invitations.failed_invitations(),
                           held=invitations.held_invitations())
