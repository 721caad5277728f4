"""Staff: create and edit events, publish or cancel, materials, attendee and waitlist lists,
exports, messages to registrants, feedback results."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.policy import staff_required
from portal.events import bp, services
from portal.events.errors import CapacityBelowTaken
from portal.events.forms import ActionForm, EventForm, MaterialForm, MessageForm
from portal.events.models import Event, EventMaterial, EventStatus, Registration
from portal.extensions import db
from portal.storage.handout import blob_item, send_generated, send_item
from portal.web import FORM_OVERHEAD, back_to, body_limit, page_or_partial, see_other


def _event(event_id: int) -> Event:
    return db.get_or_404(Event, event_id)


def _back_to_event(event_id: int) -> None:
    back_to(url_for("events.staff_show", event_id=event_id))


@bp.route("/admin/events")
@staff_required
def staff_index() -> ResponseReturnValue:
    filters = services.EventFilters.from_args(request.args)
    return page_or_partial("events/staff_index.html", "events/_staff_table.html",
                           events=services.staff_events(filters), filters=filters,
                           status=filters.status, statuses=list(EventStatus))


def _form_data(form: EventForm) -> dict[str, Any]:
    data = dict(form.data)
    data.pop("csrf_token", None)
    return data


@bp.route("/admin/events/new", methods=["GET", "POST"])
@staff_required
def staff_new() -> ResponseReturnValue:
    form = EventForm().with_choices(services.specialty_choices())
    if request.method == "GET":
        form.venue_timezone.data = current_app.config["DEFAULT_TIMEZONE"]
    if form.validate_on_submit():
        event = services.save_event(None, _form_data(form), current_user)
        flash(_("Event saved as a draft. Publish it when it is ready."), "success")
        return see_other("events.staff_show", event_id=event.id)
    return render_template("events/staff_form.html", form=form, event=None), (
        422 if form.errors else 200)


@bp.route("/admin/events/<int:event_id>/edit", methods=["GET", "POST"])
@staff_required
def staff_edit(event_id: int) -> ResponseReturnValue:
    event = _event(event_id)
    form = EventForm(obj=event).with_choices(services.specialty_choices())
    if request.method == "GET":
        for name in services.LOCAL_TIMES:
            getattr(form, name).data = services.to_local(getattr(event, name),
                                                         event.venue_timezone)
    if form.validate_on_submit():
        try:
            services.save_event(event, _form_data(form), current_user)
        except CapacityBelowTaken as refused:  # refused before anything changed
            form.capacity.errors = [str(refused)]
        else:
            flash(_("Event saved."), "success")
            return see_other("events.staff_show", event_id=event_id)
    return render_template("events/staff_form.html", form=form, event=event), (
        422 if form.errors else 200)


@bp.route("/admin/events/<int:event_id>")
@staff_required
def staff_show(event_id: int) -> ResponseReturnValue:
    event = _event(event_id)
    return render_template(
        "events/staff_show.html", event=event, **services.staff_page(event_id),
        action=ActionForm(), material_form=MaterialForm(), message_form=MessageForm())


@bp.post("/admin/events/<int:event_id>/publish")
@staff_required
def staff_publish(event_id: int) -> ResponseReturnValue:
    event = _event(event_id)
    if ActionForm().validate_on_submit():
        services.publish(event, current_user)
        flash(_("Published: eligible alumni see the event now."), "success")
    return see_other("events.staff_show", event_id=event_id)


@bp.post("/admin/events/<int:event_id>/cancel")
@staff_required
def staff_cancel_event(event_id: int) -> ResponseReturnValue:
    event = _event(event_id)
    if ActionForm().validate_on_submit():
        told = services.cancel_event(event, current_user)
        flash(_("Event cancelled; %(n)d people were told.", n=told), "success")
    return see_other("events.staff_show", event_id=event_id)


@bp.post("/admin/events/<int:event_id>/registrations/<int:registration_id>/cancel")
@staff_required
def staff_cancel_registration(event_id: int, registration_id: int) -> ResponseReturnValue:
    reg = db.session.get(Registration, registration_id)
    if reg is None or reg.event_id != event_id or not ActionForm().validate_on_submit():
        abort(404)
    _back_to_event(event_id)
    promoted = services.cancel_registration(reg, current_user)
    message = _("Registration cancelled.")
    if promoted:
        message += " " + _("The first person on the waitlist got the seat.")
    flash(message, "success")
    return see_other("events.staff_show", event_id=event_id)


def _material_body_limit() -> int:
    return int(current_app.config["EVENT_MATERIAL_MAX_MB"]) * 2**20 + FORM_OVERHEAD


@bp.post("/admin/events/<int:event_id>/materials")
@staff_required
@body_limit(_material_body_limit)
def staff_add_material(event_id: int) -> ResponseReturnValue:
    event = _event(event_id)
    form = MaterialForm()
    if not form.validate_on_submit():
        flash(_("Choose a file to upload."), "error")
        return see_other("events.staff_show", event_id=event_id)
    _back_to_event(event_id)
    upload = form.file.data
    services.add_material(event, upload.stream, upload.filename,
                          (form.title.data or "").strip(), current_user)
    flash(_("Material added: registered people can download it."), "success")
    return see_other("events.staff_show", event_id=event_id)


def _material(event_id: int, material_id: int) -> EventMaterial:
    found = services.material_of(event_id, material_id)
    if found is None:
        abort(404)
    return found


@bp.route("/admin/events/<int:event_id>/materials/<int:material_id>")
@staff_required
def staff_material(event_id: int, material_id: int) -> ResponseReturnValue:
    found = _material(event_id, material_id)
    item = blob_item(found.blob, object_type="blob",
                     details={"event_id": event_id, "material_id": found.id, "as": "staff"})
    return send_item(item, actor=current_user)


@bp.post("/admin/events/<int:event_id>/materials/<int:material_id>/delete")
@staff_required
def staff_remove_material(event_id: int, material_id: int) -> ResponseReturnValue:
    found = _material(event_id, material_id)
    if ActionForm().validate_on_submit():
        services.remove_material(found, current_user)
        flash(_("Material removed."), "success")
    return see_other("events.staff_show", event_id=event_id)


@bp.post("/admin/events/<int:event_id>/message")
@staff_required
def staff_message(event_id: int) -> ResponseReturnValue:
    event = _event(event_id)
    form = MessageForm()
    if form.validate_on_submit():
        sent = services.message_registrants(
            event, (form.subject.data or "").strip(), form.body.data or "",
            include_waitlist=bool(form.include_waitlist.data), actor=current_user)
        flash(_("Message queued for %(n)d people.", n=sent), "success")
    else:
        flash(_("Write a subject and a message."), "error")
    return see_other("events.staff_show", event_id=event_id)


@bp.route("/admin/events/<int:event_id>/registrations.<any(csv, xlsx):fmt>")
@staff_required
def staff_export(event_id: int, fmt: str) -> ResponseReturnValue:
    data, name, mimetype = services.export_registrations(_event(event_id), fmt, current_user)
    return send_generated(data, name, mimetype)
