"""The reviewer's workspace of one dossier: read, score (autosave or a plain form post),
submit, decline the assignment, declare a conflict of interest.

Every view starts from review.policy.visible_assignment_or_404: a dossier the reviewer
may not open answers 404, whatever the URL.
"""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portal.accounts.models import Role, User
from portal.accounts.policy import current_account, role_required
from portal.errors import PortalError
from portal.i18n import local_dt
from portal.nominations.models import Nomination
from portal.review import bp, policy, reviewer_services, scoring
from portal.review import workspace as workspace_service
from portal.review.blind import candidate_label
from portal.review.models import Assignment
from portal.review.queue import QueueFilters
from portal.review.scoring import ReviewError
from portal.review.workspace_forms import (
    DeclineForm,
    DossierConflictForm,
    PostForm,
    review_input,
    revision,
)
from portal.transaction import attempt
from portal.web import back_to, see_other

reviewer_required = role_required(Role.REVIEWER)


def _assigned(nomination_id: int) -> tuple[User, Assignment, Nomination]:
    user = current_account()
    assignment, nomination = policy.visible_assignment_or_404(user, nomination_id)
    return user, assignment, nomination


def _page(user: User, assignment: Assignment, nomination: Nomination, filters: QueueFilters,
          *, status: int = 200, **changes: Any) -> ResponseReturnValue:
    ws = workspace_service.load(user, assignment, nomination, filters)
    for name, value in changes.items():
        setattr(ws, name, value)
    return render_template("review/workspace/workspace.html", ws=ws,
                           post_form=PostForm()), status


@bp.route("/review/<int:nomination_id>")
@reviewer_required
def workspace(nomination_id: int) -> ResponseReturnValue:
    user, assignment, nomination = _assigned(nomination_id)
    return _page(user, assignment, nomination, QueueFilters.from_args(request.args))


@bp.post("/review/<int:nomination_id>")
@reviewer_required
def save(nomination_id: int) -> ResponseReturnValue:
    """The rubric form posted without JavaScript: save the draft, or submit."""
    user, assignment, nomination = _assigned(nomination_id)
    filters = QueueFilters.from_args(request.args)
    back_to(url_for("review.workspace", nomination_id=nomination_id, **filters.args()))
    values = review_input(request.form, scoring.criteria_of(assignment.cycle_id))
    submit = request.form.get("action") == "submit"
    try:
        with attempt():
            saved = scoring.save(user, assignment, values, revision(request.form),
                                 submit=submit)
    except ReviewError as error:
        flash(str(error.message), "error")
        return _page(user, assignment, nomination, filters, status=422, values=values,
                     errors=error.context.get("errors", {}))
    if saved.missing:
        flash(_("Your changes are saved as a draft. To submit, complete the fields marked."),
              "warning")
        return _page(user, assignment, nomination, filters, status=422, values=values,
                     errors=saved.missing)
    if saved.review.submitted:
        flash(_("Your review is submitted. You can change it until review closes.")
              if submit else _("Your changes to the submitted review are saved."), "success")
    else:
        flash(_("Saved as a draft."), "success")
    return see_other("review.workspace", nomination_id=nomination_id, **filters.args())


def _error_json(error: PortalError) -> ResponseReturnValue:
    errors = {k: str(v) for k, v in error.context.get("errors", {}).items()}
    return jsonify(error=str(error.message), code=error.code, errors=errors,
                   stored=error.context.get("stored")), error.status


@bp.post("/review/<int:nomination_id>/autosave")
@reviewer_required
def autosave(nomination_id: int) -> ResponseReturnValue:
    """A save from the page's script (static/js/review.js): JSON in the answer. A stale
    save (409) carries the stored values, which the page shows instead."""
    user, assignment, _nomination = _assigned(nomination_id)
    values = review_input(request.form, scoring.criteria_of(assignment.cycle_id))
    try:
        with attempt():
            saved = scoring.save(user, assignment, values, revision(request.form))
    except PortalError as error:
        return _error_json(error)
    review = saved.review
    return jsonify(revision=review.revision, status=review.status,
                   saved_at=local_dt(review.updated_at, "short"),
                   score=None if review.score is None else round(review.score, 3))


def _label(assignment: Assignment, nomination: Nomination) -> str:
    return candidate_label(nomination, scoring.setup_of(assignment.cycle_id))


@bp.route("/review/<int:nomination_id>/decline", methods=["GET", "POST"])
@reviewer_required
def decline(nomination_id: int) -> ResponseReturnValue:
    user, assignment, nomination = _assigned(nomination_id)
    form = DeclineForm()
    if form.validate_on_submit():
        back_to(url_for("review.decline", nomination_id=nomination_id))
        reviewer_services.decline(user, assignment, nomination, form.reason.data or "")
        flash(_("You declined this assignment. Program staff have been told."), "success")
        return see_other("review.queue", cycle=assignment.cycle_id)
    return render_template("review/workspace/decline.html", form=form, nomination=nomination,
                           label=_label(assignment, nomination)), 422 if form.errors else 200


@bp.route("/review/<int:nomination_id>/conflict", methods=["GET", "POST"])
@reviewer_required
def declare_conflict(nomination_id: int) -> ResponseReturnValue:
    user, assignment, nomination = _assigned(nomination_id)
    form = DossierConflictForm()
    if form.validate_on_submit():
        back_to(url_for("review.declare_conflict", nomination_id=nomination_id))
        reviewer_services.declare_conflict(user, assignment, nomination, form.kind.data or "",
                                           form.note.data or "")
        flash(_("Thank you. The dossier has left your queue and program staff have been "
                "told."), "success")
        return see_other("review.queue", cycle=assignment.cycle_id)
    return render_template("review/workspace/conflict.html", form=form,
                           nomination=nomination, label=_label(assignment, nomination)), \
        422 if form.errors else 200
