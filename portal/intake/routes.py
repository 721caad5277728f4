"""Staff pages of the intake: the nominations list and the page of one nomination."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.policy import staff_required
from portal.extensions import db
from portal.i18n import viewer_timezone
from portal.intake import bp, services
from portal.intake.forms import ReturnForm, return_form
from portal.nominations import workflow
from portal.nominations.models import Nomination
from portal.nominations.policy import get_visible_nomination_or_404
from portal.nominations.services import (
    ENGLISH_LEVELS,
    FIELD_LABELS,
    SECTION_TITLES,
    SECTIONS,
    SEXES,
    STATE_LABELS,
)
from portal.web import is_htmx, page_or_partial


@bp.get("/")
@staff_required
def index() -> Any:
    """The list; htmx requests (filter form, sort links, pager) get the results only."""
    filters = services.Filters.from_args(request.args)
    listing = services.list_nominations(current_user, filters)
    options = None if is_htmx() else services.filter_options()
    zone = viewer_timezone()

    def short_dt(value: datetime | None) -> str:
        # ISO-like and cheap: babel's formatting of 100 times was a third of the page.
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    return page_or_partial(
        "intake/index.html", "intake/_results.html", filters=filters, listing=listing,
        options=options, states=services.STATES, state_labels=STATE_LABELS,
        short_dt=short_dt, zone_name=str(zone),
        # One url_for per row adds up at 100 rows; the id is appended in the template.
        detail_base=url_for("intake.detail", nomination_id=0)[:-1],
    )


def _render_detail(nomination: Nomination, form: ReturnForm | None = None,
                   status: int = 200) -> Any:
    dossier = services.load_dossier(current_user, nomination)
    if form is None:
        form = return_form(dossier.cycle.requirements, formdata=None)
    return render_template(
        "intake/detail.html", dossier=dossier, n=nomination, form=form,
        history=workflow.history(nomination), state_labels=STATE_LABELS,
        field_labels=FIELD_LABELS, sections=SECTIONS, section_titles=SECTION_TITLES,
        choice_labels={"sex": dict(SEXES), "english_level": dict(ENGLISH_LEVELS)},
        can_return=nomination.state in services.RETURNABLE,
        can_review=nomination.state in services.REVIEWABLE,
    ), status


@bp.get("/<int:nomination_id>")
@staff_required
def detail(nomination_id: int) -> Any:
    return _render_detail(get_visible_nomination_or_404(current_user, nomination_id))


@bp.post("/<int:nomination_id>/return")
@staff_required
def return_for_changes(nomination_id: int) -> Any:
    nomination = get_visible_nomination_or_404(current_user, nomination_id)
    dossier = services.load_dossier(current_user, nomination)
    form = return_form(dossier.cycle.requirements)
    if not form.validate():
        return _render_detail(nomination, form, 422)
    try:
        workflow.return_for_changes(nomination, current_user, form.comment.data.strip(),
                                    form.notes())
    except workflow.WorkflowError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("intake.detail", nomination_id=nomination_id), 303)
    db.session.commit()
    flash(_("The nomination was returned to the institution for changes."), "success")
    return redirect(url_for("intake.detail", nomination_id=nomination_id), 303)


@bp.post("/<int:nomination_id>/under-review")
@staff_required
def mark_under_review(nomination_id: int) -> Any:
    nomination = get_visible_nomination_or_404(current_user, nomination_id)
    try:
        workflow.mark_under_review(nomination, current_user)
    except workflow.WorkflowError as error:
        db.session.rollback()
        # A double click lands here as "already under review": say so, calmly.
        flash(str(error.message), "info" if error.code == "already_done" else "error")
        return redirect(url_for("intake.detail", nomination_id=nomination_id), 303)
    db.session.commit()
    flash(_("The nomination is now under review."), "success")
    return redirect(url_for("intake.detail", nomination_id=nomination_id), 303)
