"""The reviewer's queue, the confidentiality terms, and the reviewer's own reviews."""

from __future__ import annotations

from flask import abort, current_app, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BuildError

from portal.accounts.models import Role
from portal.accounts.policy import current_account, role_required
from portal.errors import NotYours
from portal.registry import register_nav, register_section
from portal.review import bp, queue, reviewer_services, scoring
from portal.review.queue import QueueFilters
from portal.review.reviewer_labels import RECOMMENDATION_LABELS, REVIEW_STATE_LABELS
from portal.web import back_to, see_other

reviewer_required = role_required(Role.REVIEWER)

register_nav(_l("My reviews"), "review.queue", Role.REVIEWER, order=25)
register_section(Role.REVIEWER, 10, "review/workspace/_dashboard.html", queue.dashboard)


def declare_conflicts_url(cycle_id: int) -> str | None:
    """Part A's page where a reviewer declares conflicts for the cycle, if it exists."""
    if "review.declare_conflicts" not in current_app.view_functions:
        return None
    try:
        return url_for("review.declare_conflicts", cycle_id=cycle_id)
    except BuildError:
        return None


@bp.route("/review", endpoint="queue")
@reviewer_required
def queue_page() -> ResponseReturnValue:
    filters = QueueFilters.from_args(request.args)
    found = queue.queue(current_account(), filters)
    conflicts_url = declare_conflicts_url(found.pool.cycle.id) if found.pool else None
    terms = reviewer_services.terms_text(found.pool.setup) if found.pool else ""
    return render_template("review/workspace/queue.html", q=found, filters=filters,
                           conflicts_url=conflicts_url, terms=terms)


@bp.post("/review/terms/<int:cycle_id>")
@reviewer_required
def accept_terms(cycle_id: int) -> ResponseReturnValue:
    back_to(url_for("review.queue", cycle=cycle_id))
    try:
        accepted = reviewer_services.accept_terms(current_account(), cycle_id)
    except NotYours:
        abort(404)  # not in this cycle's pool
    if accepted:
        flash(_("Thank you. Your acceptance of the confidentiality terms is recorded."),
              "success")
    return see_other("review.queue", cycle=cycle_id)


@bp.route("/review/mine")
@reviewer_required
def my_reviews() -> ResponseReturnValue:
    return render_template("review/workspace/mine.html",
                           reviews=queue.own_reviews(current_account()),
                           state_labels=REVIEW_STATE_LABELS)


@bp.route("/review/mine/<int:review_id>")
@reviewer_required
def my_review(review_id: int) -> ResponseReturnValue:
    own = queue.own_review_or_404(current_account(), review_id)
    return render_template("review/workspace/own_review.html", own=own,
                           criteria=scoring.criteria_of(own.cycle.id),
                           state_labels=REVIEW_STATE_LABELS,
                           recommendations=RECOMMENDATION_LABELS)
