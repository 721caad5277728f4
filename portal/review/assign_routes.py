"""Staff pages of the assignment: the cycle's overview with the automatic assignment
(preview, apply), one nomination's reviewers, one reviewer's nominations."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from portal.accounts.models import User
from portal.accounts.policy import current_account, staff_required
from portal.cycles.models import Cycle
from portal.extensions import db
from portal.nominations.policy import get_visible_nomination_or_404
from portal.review import assign_pages, assign_preview, assignment, bp, manual
from portal.review.assign_forms import (
    AddNominationForm,
    AddReviewerForm,
    ApplyForm,
    PreviewForm,
    RemoveForm,
)
from portal.review.assign_mails import notify_queues
from portal.review.lifecycle import ENDED_ASSIGNMENTS
from portal.review.models import Assignment, AssignmentStatus
from portal.review.solver import REASONS as REASON_ORDER
from portal.web import back_to, page_or_partial, see_other


@bp.get("/staff/review/<int:cycle_id>/assignment", endpoint="assignment")
@staff_required
def assignment_page(cycle_id: int) -> ResponseReturnValue:
    """The cycle's assignment: loads, nominations and their reviewers, the automatic run."""
    cycle = db.get_or_404(Cycle, cycle_id)
    filters = assign_pages.NominationFilters.from_args(request.args)
    return page_or_partial(
        "review/assign/overview.html", "review/assign/_nominations.html",
        o=assign_pages.overview(cycle, filters), form=PreviewForm(formdata=None),
        **assign_pages.labels())


@bp.post("/staff/review/<int:cycle_id>/assignment/preview")
@staff_required
def assignment_preview(cycle_id: int) -> ResponseReturnValue:
    cycle = db.get_or_404(Cycle, cycle_id)
    form = PreviewForm()
    result = assign_preview.preview(cycle, replace_unstarted=bool(form.replace_unstarted.data))
    return page_or_partial("review/assign/preview.html", "review/assign/_preview.html",
                           p=result, apply_form=ApplyForm(formdata=None, token=result.token),
                           reasons=REASON_ORDER)


@bp.post("/staff/review/<int:cycle_id>/assignment/apply")
@staff_required
def assignment_apply(cycle_id: int) -> ResponseReturnValue:
    cycle = db.get_or_404(Cycle, cycle_id)
    form = ApplyForm()
    back_to(url_for("review.assignment", cycle_id=cycle.id))
    done = assignment.apply(cycle, form.token.data or "", current_account())
    flash(_("Assignment applied: %(added)d reviews assigned, %(removed)d replaced; "
            "%(mailed)d reviewers told.", added=done.added + done.reactivated,
            removed=done.removed, mailed=done.mailed), "success")
    return see_other("review.assignment", cycle_id=cycle.id)


@bp.post("/staff/review/<int:cycle_id>/assignment/notify")
@staff_required
def assignment_notify(cycle_id: int) -> ResponseReturnValue:
    cycle = db.get_or_404(Cycle, cycle_id)
    sent = notify_queues(cycle, current_account())
    flash(ngettext("%(num)d reviewer was told about their queue.",
                   "%(num)d reviewers were told about their queues.", sent), "success")
    return see_other("review.assignment", cycle_id=cycle.id)


@bp.get("/staff/review/nominations/<int:nomination_id>/assignment")
@staff_required
def nomination_assignment(nomination_id: int) -> ResponseReturnValue:
    nomination = get_visible_nomination_or_404(current_account(), nomination_id)
    return render_template("review/assign/nomination.html",
                           a=assign_pages.nomination_assignments(nomination),
                           form=AddReviewerForm(formdata=None), ended=ENDED_ASSIGNMENTS,
                           remove_form=RemoveForm(formdata=None), **assign_pages.labels())


@bp.post("/staff/review/nominations/<int:nomination_id>/assignment")
@staff_required
def nomination_assign(nomination_id: int) -> ResponseReturnValue:
    nomination = get_visible_nomination_or_404(current_account(), nomination_id)
    back_to(url_for("review.nomination_assignment", nomination_id=nomination.id))
    form = AddReviewerForm()
    if not form.validate():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return see_other("review.nomination_assignment", nomination_id=nomination.id)
    reviewer = db.session.get(User, form.reviewer_id.data)
    if reviewer is None:
        abort(404)
    manual.add(nomination, reviewer, current_account(), over_limit=bool(form.over_limit.data),
               tell=bool(form.tell.data))
    flash(_("%(name)s now reviews %(ref)s.", name=reviewer.name, ref=nomination.reference),
          "success")
    return see_other("review.nomination_assignment", nomination_id=nomination.id)


@bp.post("/staff/review/assignments/<int:assignment_id>/remove")
@staff_required
def assignment_remove(assignment_id: int) -> ResponseReturnValue:
    row = db.get_or_404(Assignment, assignment_id)
    form = RemoveForm()
    if form.back.data == "reviewer":
        back = url_for("review.reviewer_assignment", cycle_id=row.cycle_id,
                       user_id=row.reviewer_id)
    else:
        back = url_for("review.nomination_assignment", nomination_id=row.nomination_id)
    back_to(back)
    kept = manual.remove(row, current_account())
    flash(_("The reviewer was taken off the nomination; their started review stays for "
            "staff.") if kept else _("The reviewer was taken off the nomination."),
          "success")
    return redirect(back, 303)


@bp.get("/staff/review/<int:cycle_id>/reviewers/<int:user_id>/assignment")
@staff_required
def reviewer_assignment(cycle_id: int, user_id: int) -> ResponseReturnValue:
    cycle = db.get_or_404(Cycle, cycle_id)
    reviewer = db.get_or_404(User, user_id)
    data = assign_pages.reviewer_assignments(cycle, reviewer)
    if data.member is None and not data.lines:
        abort(404)
    return render_template("review/assign/reviewer.html", r=data,
                           form=AddNominationForm(formdata=None),
                           active=AssignmentStatus.ACTIVE, **assign_pages.labels())


@bp.post("/staff/review/<int:cycle_id>/reviewers/<int:user_id>/assignment")
@staff_required
def reviewer_assign(cycle_id: int, user_id: int) -> ResponseReturnValue:
    cycle = db.get_or_404(Cycle, cycle_id)
    reviewer = db.get_or_404(User, user_id)
    back_to(url_for("review.reviewer_assignment", cycle_id=cycle.id, user_id=reviewer.id))
    form = AddNominationForm()
    if not form.validate():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return see_other("review.reviewer_assignment", cycle_id=cycle.id, user_id=reviewer.id)
    nomination = get_visible_nomination_or_404(current_account(), form.nomination_id.data)
    if nomination.cycle_id != cycle.id:
        abort(404)
    manual.add(nomination, reviewer, current_account(), over_limit=bool(form.over_limit.data),
               tell=bool(form.tell.data))
    flash(_("%(name)s now reviews %(ref)s.", name=reviewer.name, ref=nomination.reference),
          "success")
    return see_other("review.reviewer_assignment", cycle_id=cycle.id, user_id=reviewer.id)
