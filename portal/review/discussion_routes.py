"""The committee's discussion of a dossier: reviewers post from their workspace (once
their own review is submitted), staff from a page of their own."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portal.accounts.models import Role
from portal.accounts.policy import current_account, role_required, staff_required
from portal.errors import PortalError
from portal.extensions import db
from portal.nominations.models import Nomination
from portal.review import bp, discussion, policy
from portal.review.workspace_forms import PostForm
from portal.threads import services as threads
from portal.transaction import attempt
from portal.web import back_to, is_htmx

reviewer_required = role_required(Role.REVIEWER)
THREAD = "threads/_thread.html"


def _thread_fragment(nomination_id: int, post_url: str, form: PostForm, *,
                     status: int = 200, error: str = "") -> ResponseReturnValue:
    thread = threads.view(discussion.AUDIENCE, nomination_id, current_account())
    return render_template(THREAD, thread=thread, post_url=post_url, form=form,
                           error=error), status


def _post(nomination_id: int, post_url: str, page_url: str) -> ResponseReturnValue:
    if not discussion.may_read(current_account(), nomination_id):
        abort(404)  # not the thread of someone who has not submitted, or is conflicted
    form = PostForm()
    back_to(page_url)
    if not form.validate_on_submit():
        if is_htmx():
            return _thread_fragment(nomination_id, post_url, form, status=422)
        flash(_("Write a message first."), "error")
        return redirect(page_url, 303)
    if is_htmx():
        try:
            with attempt():
                threads.post(discussion.AUDIENCE, nomination_id, current_account(),
                             form.body.data or "")
        except PortalError as error:
            return _thread_fragment(nomination_id, post_url, form, status=error.status,
                                    error=str(error.message))
        return _thread_fragment(nomination_id, post_url, PostForm(formdata=None))
    threads.post(discussion.AUDIENCE, nomination_id, current_account(), form.body.data or "")
    flash(_("Your message is posted."), "success")
    return redirect(page_url, 303)


@bp.post("/review/<int:nomination_id>/discussion")
@reviewer_required
def post_message(nomination_id: int) -> ResponseReturnValue:
    policy.visible_assignment_or_404(current_account(), nomination_id)
    return _post(nomination_id, url_for("review.post_message", nomination_id=nomination_id),
                 url_for("review.workspace", nomination_id=nomination_id,
                         _anchor="discussion"))


@bp.route("/staff/review/nominations/<int:nomination_id>/discussion")
@staff_required
def staff_discussion(nomination_id: int) -> ResponseReturnValue:
    nomination = db.session.get(Nomination, nomination_id)
    if nomination is None:
        abort(404)
    thread = threads.view(discussion.AUDIENCE, nomination_id, current_account())
    return render_template("review/workspace/staff_discussion.html", nomination=nomination,
                           thread=thread, form=PostForm(),
                           post_url=url_for("review.staff_post", nomination_id=nomination_id))


@bp.post("/staff/review/nominations/<int:nomination_id>/discussion")
@staff_required
def staff_post(nomination_id: int) -> ResponseReturnValue:
    if db.session.get(Nomination, nomination_id) is None:
        abort(404)
    return _post(nomination_id, url_for("review.staff_post", nomination_id=nomination_id),
                 url_for("review.staff_discussion", nomination_id=nomination_id))
