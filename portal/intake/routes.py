"""Staff pages of the intake: the nominations list and the page of one nomination."""

from __future__ import annotations

from datetime import datetime

from flask import flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.policy import staff_required
from portal.i18n import viewer_timezone
from portal.intake import bp, services
from portal.intake.forms import ReturnForm, return_form
from portal.nominations import history, policy, workflow
from portal.nominations.labels import (
    ENGLISH_LEVELS,
    FIELD_LABELS,
    KIND_LABELS,
    SECTION_TITLES,
    SECTIONS,
    SEXES,
    STATE_LABELS,
)
from portal.nominations.models import Nomination
from portal.nominations.policy import get_visible_nomination_or_404
from portal.web import back_to, is_htmx, page_or_partial, see_other


@bp.get("/")
@staff_required
def index() -> ResponseReturnValue:
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
                   status: int = 200) -> ResponseReturnValue:
    dossier = services.load_dossier(current_user, nomination)
    if form is None:
        form = return_form(dossier.cycle.requirements, formdata=None)
    return render_template(
        "intake/detail.html", dossier=dossier, n=nomination, form=form,
        history=history.events_of(nomination), state_labels=STATE_LABELS,
        kind_labels=KIND_LABELS, field_labels=FIELD_LABELS, sections=SECTIONS,
        section_titles=SECTION_TITLES,
        choice_labels={"sex": dict(SEXES), "english_level": dict(ENGLISH_LEVELS)},
        # The buttons follow the lifecycle table, as the workflow's checks do.
        can_return=policy.may(current_user, nomination, "return"),
        can_review=policy.may(current_user, nomination, "start_review"),
    ), status


@bp.get("/<int:nomination_id>")
@staff_required
def detail(nomination_id: int) -> ResponseReturnValue:
    return _render_detail(get_visible_nomination_or_404(current_user, nomination_id))


@bp.post("/<int:nomination_id>/return")
@staff_required
def return_for_changes(nomination_id: int) -> ResponseReturnValue:
    nomination = get_visible_nomination_or_404(current_user, nomination_id)
    dossier = services.load_dossier(current_user, nomination)
    form = return_form(dossier.cycle.requirements)
    if not form.validate():
        return _render_detail(nomination, form, 422)
    back_to(url_for("intake.detail", nomination_id=nomination_id))
    workflow.return_for_changes(nomination, current_user, form.comment.data.strip(),
                                form.notes())
    flash(_("The nomination was returned to the institution for changes."), "success")
    return see_other("intake.detail", nomination_id=nomination_id)


@bp.post("/<int:nomination_id>/under-review")
@staff_required
def mark_under_review(nomination_id: int) -> ResponseReturnValue:
    nomination = get_visible_nomination_or_404(current_user, nomination_id)
    # A double click is answered as "already under review", calmly (portal.web).
    back_to(url_for("intake.detail", nomination_id=nomination_id))
    workflow.mark_under_review(nomination, current_user)
    flash(_("The nomination is now under review."), "success")
    return see_other("intake.detail", nomination_id=nomination_id)
