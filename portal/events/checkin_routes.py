"""Check-in at the door, made for a phone: the camera reads the pass QR code (static/js/
checkin.js with jsQR), or staff type the code; walk-ins are recorded by name and e-mail.

The result of each attempt is a fragment under the form (htmx) with the status of the
answer: 200 admitted, 409 already checked in, 422 refused. Without JavaScript the form
posts and the page comes back with a message.
"""

from __future__ import annotations

from datetime import datetime

from flask import flash, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.policy import staff_required
from portal.events import bp
from portal.events import checkin as door
from portal.events.errors import AlreadyCheckedIn, RegistrationError
from portal.events.forms import CheckInForm, WalkInForm
from portal.events.models import Event, EventStatus, Registration
from portal.extensions import db
from portal.web import is_htmx, see_other


def _event(event_id: int) -> Event:
    return db.get_or_404(Event, event_id)


def _page(event: Event, form: CheckInForm, walk_in: WalkInForm, status: int = 200, *,
          admitted: str | None = None, refused: str | None = None,
          when: datetime | None = None) -> ResponseReturnValue:
    recent, total = door.recent(event.id)
    template = "events/_checkin_result.html" if is_htmx() else "events/checkin.html"
    return render_template(template, event=event, form=form, walk_in=walk_in,
                           recent=recent, total=total, admitted=admitted, refused=refused,
                           when=when), status


def _refusal(exc: RegistrationError) -> tuple[str, datetime | None, int]:
    """What to say, when the person was admitted before, and the answer's status."""
    if isinstance(exc, AlreadyCheckedIn):
        twice: Registration = exc.registration
        by = twice.checked_in_by.name if twice.checked_in_by is not None else "?"
        return (_("%(name)s was already checked in by %(by)s.", name=twice.person_name(),
                  by=by), twice.checked_in_at, exc.status)
    return str(exc), None, exc.status


def _admitted(event: Event, name: str, message: str, walk_in: WalkInForm) -> ResponseReturnValue:
    if not is_htmx():
        flash(message, "success")
        return see_other("events.checkin", event_id=event.id)
    return _page(event, CheckInForm(formdata=None), walk_in, admitted=name)


@bp.route("/admin/events/<int:event_id>/check-in")
@staff_required
def checkin(event_id: int) -> ResponseReturnValue:
    return _page(_event(event_id), CheckInForm(), WalkInForm(formdata=None))


@bp.post("/admin/events/<int:event_id>/check-in")
@staff_required
def checkin_code(event_id: int) -> ResponseReturnValue:
    event = _event(event_id)
    form = CheckInForm()
    if event.status != EventStatus.PUBLISHED:
        return _page(event, form, WalkInForm(formdata=None), 422,
                     refused=_("This event is not open for check-in."))
    if not form.validate_on_submit():
        return _page(event, form, WalkInForm(formdata=None), 422,
                     refused=_("Type the code printed under the QR code."))
    try:
        reg = door.check_in(event, form.code.data, current_user)
    except RegistrationError as exc:  # nothing changed: the fragment says why
        refused, when, status = _refusal(exc)
        return _page(event, CheckInForm(formdata=None), WalkInForm(formdata=None), status,
                     refused=refused, when=when)
    name = reg.person_name()
    return _admitted(event, name, _("Checked in: %(name)s.", name=name),
                     WalkInForm(formdata=None))


@bp.post("/admin/events/<int:event_id>/walk-in")
@staff_required
def walk_in(event_id: int) -> ResponseReturnValue:
    event = _event(event_id)
    form = WalkInForm()
    if event.status != EventStatus.PUBLISHED or not form.validate_on_submit():
        return _page(event, CheckInForm(formdata=None), form, 422,
                     refused=_("Give the name and e-mail of the walk-in."))
    try:
        reg = door.record_walk_in(event, name=form.name.data or "",
                                  email=form.email.data or "",
                                  institution=form.institution.data or "", actor=current_user)
    except RegistrationError as exc:  # nothing changed: the fragment says why
        refused, when, status = _refusal(exc)
        return _page(event, CheckInForm(formdata=None), form, status, refused=refused,
                     when=when)
    name = reg.person_name()
    return _admitted(event, name, _("Walk-in recorded: %(name)s.", name=name),
                     WalkInForm(formdata=None))
