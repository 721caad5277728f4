"""Staff: the alumni list, records, merging, records from a cycle, invitations."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.accounts.policy import staff_required
from portal.alumni import bp, invitations, services
from portal.alumni.forms import AlumnusForm, ConfirmForm, CycleForm, MergeForm
from portal.alumni.models import AlumniInvitation, Alumnus
from portal.alumni.services import Filters
from portal.extensions import db
from portal.web import page_or_partial

PAGE = 50


def _accounts(rows: list[Alumnus]) -> dict[int, User]:
    ids = [a.user_id for a in rows if a.user_id]
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


@bp.route("/admin/alumni")
@staff_required
def staff_index():
    filters = Filters.from_args(request.args)
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = services.page_of(services.staff_query(filters), page, PAGE)
    return page_or_partial(
        "alumni/staff_index.html", "alumni/_staff_table.html", rows=rows, total=total,
        page=page, pages=max((total - 1) // PAGE + 1, 1), filters=filters,
        args=filters.as_args(), accounts=_accounts(rows), choices=services.filter_values())


@bp.route("/admin/alumni/new", methods=["GET", "POST"])
@staff_required
def staff_new():
    form = AlumnusForm().with_choices()
    if form.validate_on_submit():
        alumnus = services.create(form.data, current_user)
        db.session.commit()
        flash(_("Record created."), "success")
        return redirect(url_for("alumni.staff_edit", alumnus_id=alumnus.id), 303)
    return render_template("alumni/staff_form.html", form=form, alumnus=None,
                           choices=services.filter_values()), 422 if form.errors else 200


@bp.route("/admin/alumni/<int:alumnus_id>", methods=["GET", "POST"])
@staff_required
def staff_edit(alumnus_id: int):
    alumnus = db.get_or_404(Alumnus, alumnus_id)
    form = AlumnusForm(obj=alumnus).with_choices()
    if form.validate_on_submit():
        services.update_record(alumnus, form.data, current_user)
        db.session.commit()
        flash(_("Record saved."), "success")
        return redirect(url_for("alumni.staff_edit", alumnus_id=alumnus.id), 303)
    account = db.session.get(User, alumnus.user_id) if alumnus.user_id else None
    sent = db.session.scalars(select(AlumniInvitation).where(
        AlumniInvitation.alumnus_id == alumnus.id).order_by(AlumniInvitation.id.desc())).all()
    return render_template(
        "alumni/staff_form.html", form=form, alumnus=alumnus, account=account,
        merged=services.history(alumnus), survivor=services.resolve(alumnus)
        if alumnus.merged_into_id else None, invitations=sent, merge_form=MergeForm(),
        choices=services.filter_values(),
    ), 422 if form.errors else 200


@bp.route("/admin/alumni/<int:alumnus_id>/merge", methods=["GET", "POST"])
@staff_required
def staff_merge(alumnus_id: int):
    """Merge record `other_id` into this one: GET compares the two, POST merges."""
    target = db.get_or_404(Alumnus, alumnus_id)
    form = MergeForm(formdata=request.values)
    if not form.other_id.data:
        abort(404)
    source = db.get_or_404(Alumnus, form.other_id.data)
    if request.method == "POST":
        try:
            services.merge(source, target, current_user)
        except services.AlumniError as exc:
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("Record #%(a)d was merged into this record; it is kept in its history.",
                    a=source.id), "success")
        return redirect(url_for("alumni.staff_edit", alumnus_id=target.id), 303)
    labels = AlumnusForm(formdata=None)
    return render_template("alumni/merge.html", target=target, source=source, form=form,
                           fields=[(f, labels[f].label.text) for f in services.MERGE_FILL])


def _cycle_choices() -> list[tuple[int, str]]:
    from portal.cycles.models import Cycle
    from portal.nominations.models import Nomination, NominationState

    accepted = (select(Nomination.cycle_id, func.count().label("n"))
                .where(Nomination.state == NominationState.ACCEPTED)
                .group_by(Nomination.cycle_id).subquery())
    rows = db.session.execute(
        select(Cycle.id, Cycle.name, Cycle.training_ends_on, func.coalesce(accepted.c.n, 0))
        .outerjoin(accepted, accepted.c.cycle_id == Cycle.id)
        .order_by(Cycle.training_starts_on.desc())).all()
    return [(cid, _("%(name)s — %(n)d accepted, training ends %(day)s", name=name, n=n,
                    day=ends.isoformat())) for cid, name, ends, n in rows]


@bp.route("/admin/alumni/from-cycle", methods=["GET", "POST"])
@staff_required
def staff_from_cycle():
    from portal.cycles.models import Cycle

    form = CycleForm()
    form.cycle_id.choices = _cycle_choices()
    if form.validate_on_submit():
        cycle = db.session.get(Cycle, form.cycle_id.data)
        try:
            result = services.create_from_cycle(cycle, current_user)
            db.session.commit()
        except services.AlumniError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
            return redirect(url_for("alumni.staff_from_cycle"), 303)
        except IntegrityError:  # a second click running at the same time: it did the work
            db.session.rollback()
            flash(_("These records are being created already. Reload the list."), "warning")
            return redirect(url_for("alumni.staff_index"), 303)
        flash(_("%(name)s: %(created)d records created, %(linked)d existing records linked, "
                "%(existing)d done before.", name=cycle.name, created=result.created,
                linked=result.linked, existing=result.existing), "success")
        return redirect(url_for("alumni.staff_index", year=cycle.training_starts_on.year), 303)
    return render_template("alumni/from_cycle.html", form=form), 422 if form.errors else 200


@bp.route("/admin/alumni/invite", methods=["GET", "POST"])
@staff_required
def staff_invite():
    """Invite the records of the list's current filter to claim an account."""
    filters = Filters.from_args(request.args)
    form = ConfirmForm()
    if form.validate_on_submit():
        result = invitations.request_invitations(services.staff_query(filters), current_user)
        db.session.commit()
        if result.queued:
            flash(_("%(n)d invitations queued; they go out at %(rate)d per minute.",
                    n=result.queued, rate=invitations.per_minute()), "success")
        flash(_("Not invited: %(recent)d invited recently or queued, %(noemail)d without "
                "e-mail, %(claimed)d with an account already.",
                recent=result.recently_invited, noemail=result.no_email,
                claimed=result.has_account), "info")
        return redirect(url_for("alumni.staff_invitations"), 303)
    query = services.staff_query(filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return render_template("alumni/invite.html", form=form, filters=filters, total=total,
                           args=filters.as_args(), rate=invitations.per_minute(),
                           days=invitations.cooldown().days)


@bp.route("/admin/alumni/invitations")
@staff_required
def staff_invitations():
    return render_template("alumni/invitations.html", counts=invitations.queue_counts(),
                           failed=invitations.failed_invitations())
