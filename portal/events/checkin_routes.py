"""Check-in at the door, made for a phone: the camera reads the pass QR code (static/js/
checkin.js with jsQR), or staff type the code; walk-ins are recorded by name and e-mail."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.accounts.policy import staff_required
from portal.events import bp, registration
from portal.events import checkin as door
from portal.events.forms import CheckInForm, WalkInForm
from portal.events.models import Event, EventStatus, Registration
from portal.extensions import db
from portal.web import is_htmx


def _event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    return event


def _recent(event_id: int) -> tuple[list[Registration], int]:
    recent = db.session.scalars(
        select(Registration).options(joinedload(Registration.alumnus))
        .where(Registration.event_id == event_id, Registration.checked_in_at.is_not(None))
        .order_by(Registration.checked_in_at.desc()).limit(8)).all()
    total = db.session.scalar(select(func.count(Registration.id)).where(
        Registration.event_id == event_id, Registration.checked_in_at.is_not(None))) or 0
    return list(recent), total


def _page(event: Event, form: CheckInForm, walk_in: WalkInForm, status: int = 200,
          **result: object):
    recent, total = _recent(event.id)
    template = "events/_checkin_result.html" if is_htmx() else "events/checkin.html"
    return render_template(template, event=event, form=form, walk_in=walk_in,
                           recent=recent, total=total, **result), status


def _twice(exc: registration.AlreadyCheckedIn) -> tuple[str, object]:
    """Who checked this person in, and when (read before the rollback expires it)."""
    twice = exc.registration
    by = twice.checked_in_by.name if twice.checked_in_by is not None else "?"
    return (_("%(name)s was already checked in by %(by)s.", name=twice.person_name(), by=by),
            twice.checked_in_at)


@bp.route("/admin/events/<int:event_id>/check-in")
@staff_required
def checkin(event_id: int):
    event = _event(event_id)
    recent, total = _recent(event_id)
    return render_template("events/checkin.html", event=event, form=CheckInForm(),
                           walk_in=WalkInForm(formdata=None), recent=recent, total=total)


@bp.post("/admin/events/<int:event_id>/check-in")
@staff_required
def checkin_code(event_id: int):
    event = _event(event_id)
    form = CheckInForm()
    if event.status != EventStatus.PUBLISHED:
        return _page(event, form, WalkInForm(formdata=None), 422,
                     refused=_("This event is not open for check-in."))
    if not form.validate_on_submit():
        return _page(event, form, WalkInForm(formdata=None), 422,
                     refused=_("Type the code printed under the QR code."))
    try:
        reg = door.check_in(event, form.code.data, current_user.id)
    except registration.AlreadyCheckedIn as exc:
        refused, when = _twice(exc)
        db.session.rollback()
        return _page(event, CheckInForm(formdata=None), WalkInForm(formdata=None), 422,
                     refused=refused, when=when)
    except registration.RegistrationError as exc:
        db.session.rollback()
        return _page(event, CheckInForm(formdata=None), WalkInForm(formdata=None), 422,
                     refused=exc.message)
    name = reg.person_name()
    db.session.commit()
    if not is_htmx():
        flash(_("Checked in: %(name)s.", name=name), "success")
        return redirect(url_for("events.checkin", event_id=event_id), 303)
    return _page(event, CheckInForm(formdata=None), WalkInForm(formdata=None),
                 admitted=name)


@bp.post("/admin/events/<int:event_id>/walk-in")
@staff_required
def walk_in(event_id: int):
    event = _event(event_id)
    form = WalkInForm()
    if event.status != EventStatus.PUBLISHED or not form.validate_on_submit():
        return _page(event, CheckInForm(formdata=None), form, 422,
                     refused=_("Give the name and e-mail of the walk-in."))
    try:
        reg = door.record_walk_in(event, name=form.name.data, email=form.email.data,
                                          institution=form.institution.data or "",
                                          staff_id=current_user.id)
    except registration.AlreadyCheckedIn as exc:
        refused, when = _twice(exc)
        db.session.rollback()
        return _page(event, CheckInForm(formdata=None), form, 422, refused=refused, when=when)
    except registration.RegistrationError as exc:
        db.session.rollback()
        return _page(event, CheckInForm(formdata=None), form, 422, refused=exc.message)
    name = reg.person_name()
    db.session.commit()
    if not is_htmx():
        flash(_("Walk-in recorded: %(name)s.", name=name), "success")
        return redirect(url_for("events.checkin", event_id=event_id), 303)
    return _page(event, CheckInForm(formdata=None), WalkInForm(formdata=None), admitted=name)

