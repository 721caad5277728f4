"""Staff pages of a cycle's review: the list of cycles, the hub, the settings, the rubric
and the progress with reminders. (The pool and conflicts: pool_routes.)"""

from __future__ import annotations

from flask import abort, current_app, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from portal.accounts.models import Role, User
from portal.accounts.policy import current_account, staff_required
from portal.cycles.models import Cycle
from portal.extensions import db
from portal.i18n import timezone_choices
from portal.jobs import register_periodic
from portal.nominations.hooks import register_state_hook
from portal.registry import register_nav, register_section
from portal.review import bp, changes, conflicts, progress, rubric, setup
from portal.review.assignment import register_before_assignment
from portal.review.blind import BLIND_EXPLAINED, BLIND_LABELS
from portal.review.models import Criterion, Recommendation
from portal.review.reviewer_labels import RECOMMENDATION_LABELS
from portal.review.setup_forms import CopyRubricForm, CriterionForm, SettingsForm
from portal.transaction import attempt
from portal.web import back_to, page_or_partial, see_other

register_nav(_l("Review"), "review.staff_index", Role.STAFF, order=72)
register_section(Role.STAFF, 30, "review/setup/_dashboard.html",
                 lambda user: {"review_to_confirm": setup.conflicts_to_confirm()})
register_periodic("review-reminders", "portal.review.progress.send_due")
# The nominations workflow (a lower area) tells review when a dossier moves.
register_state_hook(changes.on_nomination_moved)
# Automatic conflicts are found again before every assignment run (portal.review.assignment).
register_before_assignment(conflicts.refresh_automatic)


def _cycle(cycle_id: int) -> Cycle:
    return db.get_or_404(Cycle, cycle_id)


def assignment_url(cycle: Cycle) -> str | None:
    """The assignment page (part of the review area built beside this one), if present."""
    if "review.assignment" in current_app.view_functions:
        return url_for("review.assignment", cycle_id=cycle.id)
    return None


@bp.route("/staff/review")
@staff_required
def staff_index() -> ResponseReturnValue:
    return render_template("review/setup/index.html", rows=setup.cycles_overview(),
                           phase_labels=setup.PHASE_LABELS)


@bp.route("/staff/review/<int:cycle_id>")
@staff_required
def hub(cycle_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    overview = setup.cycle_overview(cycle)
    criteria = rubric.criteria_of(cycle.id)
    return render_template(
        "review/setup/hub.html", cycle=cycle, overview=overview,
        phase_labels=setup.PHASE_LABELS, criteria=criteria,
        locked=rubric.is_locked(cycle.id), assignment_url=assignment_url(cycle),
        blind_labels=BLIND_LABELS)


# -- settings -------------------------------------------------------------------------


def _settings_form(data: dict[str, object] | None = None) -> SettingsForm:
    form = SettingsForm(data=data) if data is not None else SettingsForm()
    form.timezone.choices = timezone_choices()
    return form


@bp.route("/staff/review/<int:cycle_id>/settings", methods=["GET", "POST"])
@staff_required
def settings(cycle_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    existing = setup.setup_of(cycle.id)
    data = setup.form_data(existing) if existing else setup.defaults()
    form = _settings_form(data)
    error = None
    if form.validate_on_submit():
        try:
            with attempt():
                changed = setup.update_settings(cycle, form.data, current_account())
        except setup.SetupError as e:
            error = str(e.message)
        else:
            flash(_("Review settings saved.") if changed else _("Nothing changed."), "success")
            return see_other("review.hub", cycle_id=cycle.id)
    return render_template("review/setup/settings.html", cycle=cycle, form=form,
                           setup=existing, blind_explained=BLIND_EXPLAINED, error=error,
                           program_zone=current_app.config["PROGRAM_TIMEZONE"]), (
        422 if form.errors or error else 200)


# -- rubric ---------------------------------------------------------------------------


def _rubric_page(cycle: Cycle, form: CriterionForm | None = None, status: int = 200,
                 error: str | None = None) -> ResponseReturnValue:
    copy_form = CopyRubricForm(formdata=None)
    earlier = rubric.earlier_cycles(cycle)
    copy_form.source.choices = [(c.id, f"{c.name} ({n})") for c, n in earlier]
    return render_template(
        "review/setup/rubric.html", cycle=cycle, criteria=rubric.criteria_of(cycle.id),
        locked=rubric.is_locked(cycle.id), form=form or CriterionForm(formdata=None),
        copy_form=copy_form, can_copy=bool(earlier), error=error,
        recommendations=[(r, RECOMMENDATION_LABELS[r]) for r in Recommendation],
    ), status


@bp.route("/staff/review/<int:cycle_id>/rubric")
@staff_required
def rubric_page(cycle_id: int) -> ResponseReturnValue:
    return _rubric_page(_cycle(cycle_id))


@bp.post("/staff/review/<int:cycle_id>/rubric/criteria")
@staff_required
def add_criterion(cycle_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    form = CriterionForm()
    error = None
    if form.validate_on_submit():
        try:
            with attempt():
                rubric.add_criterion(cycle, form.values(), current_account())
        except rubric.RubricError as e:  # shown above the form; nothing was kept
            error = str(e.message)
        else:
            flash(_("Criterion added."), "success")
            return see_other("review.rubric_page", cycle_id=cycle.id)
    return _rubric_page(cycle, form, 422, error)


def _criterion_or_404(cycle: Cycle, criterion_id: int) -> Criterion:
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None or criterion.cycle_id != cycle.id:
        abort(404)
    return criterion


@bp.route("/staff/review/<int:cycle_id>/rubric/criteria/<int:criterion_id>",
          methods=["GET", "POST"])
@staff_required
def edit_criterion(cycle_id: int, criterion_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    criterion = _criterion_or_404(cycle, criterion_id)
    form = CriterionForm(data={
        "name": criterion.name, "description": criterion.description,
        "guidance": rubric.guidance_text(criterion.guidance or {}),
        "scale_min": criterion.scale_min, "scale_max": criterion.scale_max,
        "weight": criterion.weight, "required": criterion.required,
        "position": criterion.position})
    error = None
    if form.validate_on_submit():
        try:
            with attempt():
                rubric.update_criterion(cycle, criterion, form.values(), current_account())
        except rubric.RubricError as e:
            error = str(e.message)
        else:
            flash(_("Criterion saved."), "success")
            return see_other("review.rubric_page", cycle_id=cycle.id)
    return render_template("review/setup/criterion.html", cycle=cycle, criterion=criterion,
                           form=form, locked=rubric.is_locked(cycle.id), error=error), (
        422 if form.errors or error else 200)


@bp.post("/staff/review/<int:cycle_id>/rubric/criteria/<int:criterion_id>/delete")
@staff_required
def delete_criterion(cycle_id: int, criterion_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    criterion = _criterion_or_404(cycle, criterion_id)
    back_to(url_for("review.rubric_page", cycle_id=cycle.id))
    rubric.delete_criterion(cycle, criterion, current_account())
    flash(_("Criterion removed."), "success")
    return see_other("review.rubric_page", cycle_id=cycle.id)


@bp.post("/staff/review/<int:cycle_id>/rubric/copy")
@staff_required
def copy_rubric(cycle_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    form = CopyRubricForm()
    form.source.choices = [(c.id, c.name) for c, _n in rubric.earlier_cycles(cycle)]
    back_to(url_for("review.rubric_page", cycle_id=cycle.id))
    if not form.validate_on_submit() or form.source.data is None:
        flash(_("Choose the cycle to copy from."), "error")
        return see_other("review.rubric_page", cycle_id=cycle.id)
    source = db.get_or_404(Cycle, form.source.data or 0)
    n = rubric.copy_rubric(source, cycle, current_account(), settings=bool(form.settings.data))
    flash(ngettext("%(num)d criterion copied from %(cycle)s.",
                   "%(num)d criteria copied from %(cycle)s.", n, cycle=source.name), "success")
    return see_other("review.rubric_page", cycle_id=cycle.id)


# -- progress -----------------------------------------------------------------------------


@bp.route("/staff/review/<int:cycle_id>/progress")
@staff_required
def progress_page(cycle_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    filters = progress.NominationFilters.from_args(request.args)
    reviewers = progress.reviewers_progress(cycle)
    return page_or_partial(
        "review/setup/progress.html", "review/setup/_progress_nominations.html",
        cycle=cycle, setup=setup.setup_of(cycle.id), reviewers=reviewers,
        totals=progress.totals(reviewers), filters=filters,
        page=progress.nominations_page(cycle, filters))


@bp.post("/staff/review/<int:cycle_id>/progress/remind/<int:reviewer_id>")
@staff_required
def remind_reviewer(cycle_id: int, reviewer_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    reviewer = db.get_or_404(User, reviewer_id)
    back_to(url_for("review.progress_page", cycle_id=cycle.id))
    progress.remind(cycle, reviewer, current_account())
    flash(_("Reminder sent to %(name)s.", name=reviewer.name), "success")
    return see_other("review.progress_page", cycle_id=cycle.id)


@bp.post("/staff/review/<int:cycle_id>/progress/remind-late")
@staff_required
def remind_late(cycle_id: int) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    n = progress.remind_late(cycle, current_account())
    if n:
        flash(ngettext("Reminder sent to %(num)d reviewer.", "Reminders sent to %(num)d "
                       "reviewers.", n), "success")
    else:
        flash(_("Nobody to remind: every reviewer is done or was reminded a moment ago."),
              "info")
    return see_other("review.progress_page", cycle_id=cycle.id)
