"""Staff: create and edit events, publish or cancel, materials, attendee and waitlist lists,
exports, messages to registrants, feedback results."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.accounts.policy import staff_required
from portal.audit.services import record
from portal.events import bp, downloads, exports, registration, services
from portal.events.forms import ActionForm, EventForm, MaterialForm, MessageForm
from portal.events.models import Event, EventMaterial, EventStatus, Registration
from portal.extensions import db
from portal.storage import FileRejected, store_upload
from portal.web import page_or_partial

MATERIAL_MAX_MB = 25


@bp.route("/admin/events")
@staff_required
def staff_index():
    status = request.args.get("status", "")
    query = select(Event).order_by(Event.starts_at.desc())
    if status in {str(s) for s in EventStatus}:
        query = query.where(Event.status == status)
    events = db.session.scalars(query.limit(300)).all()
    return page_or_partial("events/staff_index.html", "events/_staff_table.html",
                           events=events, status=status, statuses=list(EventStatus))


def _form_data(form: EventForm) -> dict:
    data = dict(form.data)
    data.pop("csrf_token", None)
    return data


@bp.route("/admin/events/new", methods=["GET", "POST"])
@staff_required
def staff_new():
    form = EventForm().with_choices()
    if request.method == "GET":
        form.venue_timezone.data = "Asia/Tokyo"
    if form.validate_on_submit():
        event = services.save_event(None, _form_data(form), current_user)
        db.session.commit()
        flash(_("Event saved as a draft. Publish it when it is ready."), "success")
        return redirect(url_for("events.staff_show", event_id=event.id), 303)
    return render_template("events/staff_form.html", form=form, event=None), (
        422 if form.errors else 200)


@bp.route("/admin/events/<int:event_id>/edit", methods=["GET", "POST"])
@staff_required
def staff_edit(event_id: int):
    event = db.get_or_404(Event, event_id)
    form = EventForm(obj=event).with_choices()
    if request.method == "GET":
        for name in services.LOCAL_TIMES:
            getattr(form, name).data = services.to_local(getattr(event, name),
                                                         event.venue_timezone)
    if form.validate_on_submit():
        try:
            services.save_event(event, _form_data(form), current_user)
        except services.EventError:
            db.session.rollback()
            event = db.get_or_404(Event, event_id)
            form.capacity.errors = [_("%(n)d seats are taken: the capacity cannot be lower.",
                                      n=event.seats_taken)]
        else:
            db.session.commit()
            flash(_("Event saved."), "success")
            return redirect(url_for("events.staff_show", event_id=event_id), 303)
    return render_template("events/staff_form.html", form=form, event=event), (
        422 if form.errors else 200)


@bp.route("/admin/events/<int:event_id>")
@staff_required
def staff_show(event_id: int):
    event = db.get_or_404(Event, event_id)
    return render_template(
        "events/staff_show.html", event=event, counts=services.counts(event_id),
        registrants=services.registrants(event_id), ranks=services.waitlist_ranks(event_id),
        materials=services.materials_of(event_id), results=services.feedback_results(event_id),
        action=ActionForm(), material_form=MaterialForm(), message_form=MessageForm())


@bp.post("/admin/events/<int:event_id>/publish")
@staff_required
def staff_publish(event_id: int):
    event = db.get_or_404(Event, event_id)
    if ActionForm().validate_on_submit():
        services.publish(event)
        db.session.commit()
        flash(_("Published: eligible alumni see the event now."), "success")
    return redirect(url_for("events.staff_show", event_id=event_id), 303)


@bp.post("/admin/events/<int:event_id>/cancel")
@staff_required
def staff_cancel_event(event_id: int):
    event = db.get_or_404(Event, event_id)
    if ActionForm().validate_on_submit():
        told = services.cancel_event(event)
        db.session.commit()
        flash(_("Event cancelled; %(n)d people were told.", n=told), "success")
    return redirect(url_for("events.staff_show", event_id=event_id), 303)


@bp.post("/admin/events/<int:event_id>/registrations/<int:registration_id>/cancel")
@staff_required
def staff_cancel_registration(event_id: int, registration_id: int):
    reg = db.session.get(Registration, registration_id)
    if reg is None or reg.event_id != event_id or not ActionForm().validate_on_submit():
        abort(404)
    try:
        promoted = registration.cancel(reg, by_staff=True)
    except registration.RegistrationError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        record("event.registration_cancelled", object_type="event", object_id=event_id,
               details={"registration": registration_id, "promoted": [r.id for r in promoted]})
        db.session.commit()
        flash(_("Registration cancelled.") + (" " + _("The first person on the waitlist got "
              "the seat.") if promoted else ""), "success")
    return redirect(url_for("events.staff_show", event_id=event_id), 303)


@bp.post("/admin/events/<int:event_id>/materials")
@staff_required
def staff_add_material(event_id: int):
    event = db.get_or_404(Event, event_id)
    form = MaterialForm()
    if not form.validate_on_submit():
        flash(_("Choose a file to upload."), "error")
        return redirect(url_for("events.staff_show", event_id=event_id), 303)
    upload = form.file.data
    try:
        blob = store_upload(upload.stream, original_name=upload.filename,
                            allowed={"pdf", "jpeg", "png"},
                            max_bytes=MATERIAL_MAX_MB * 1024 * 1024, user_id=current_user.id)
    except FileRejected as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("events.staff_show", event_id=event_id), 303)
    services.add_material(event, blob, (form.title.data or "").strip(), current_user)
    db.session.commit()
    flash(_("Material added: registered people can download it."), "success")
    return redirect(url_for("events.staff_show", event_id=event_id), 303)


def _material_or_404(event_id: int, material_id: int) -> EventMaterial:
    item = db.session.scalars(select(EventMaterial).options(joinedload(EventMaterial.blob))
                              .where(EventMaterial.id == material_id,
                                     EventMaterial.event_id == event_id)).first()
    if item is None:
        abort(404)
    return item


@bp.route("/admin/events/<int:event_id>/materials/<int:material_id>")
@staff_required
def staff_material(event_id: int, material_id: int):
    return downloads.send_material(_material_or_404(event_id, material_id), who="staff")


@bp.post("/admin/events/<int:event_id>/materials/<int:material_id>/delete")
@staff_required
def staff_remove_material(event_id: int, material_id: int):
    item = _material_or_404(event_id, material_id)
    if ActionForm().validate_on_submit():
        services.remove_material(item)
        db.session.commit()
        flash(_("Material removed."), "success")
    return redirect(url_for("events.staff_show", event_id=event_id), 303)


@bp.post("/admin/events/<int:event_id>/message")
@staff_required
def staff_message(event_id: int):
    event = db.get_or_404(Event, event_id)
    form = MessageForm()
    if form.validate_on_submit():
        sent = services.message_registrants(event, form.subject.data.strip(), form.body.data,
                                            include_waitlist=form.include_waitlist.data)
        db.session.commit()
        flash(_("Message queued for %(n)d people.", n=sent), "success")
    else:
        flash(_("Write a subject and a message."), "error")
    return redirect(url_for("events.staff_show", event_id=event_id), 303)


@bp.route("/admin/events/<int:event_id>/registrations.<any(csv, xlsx):fmt>")
@staff_required
def staff_export(event_id: int, fmt: str):
    event = db.get_or_404(Event, event_id)
    header, rows = services.export_rows(event_id)
    record("event.exported", object_type="event", object_id=event_id,
           details={"format": fmt, "rows": len(rows)})
    db.session.commit()
    name = f"event-{event.id}-registrations.{fmt}"
    if fmt == "csv":
        return downloads.send_bytes(exports.to_csv(header, rows), name, "text/csv")
    return downloads.send_bytes(
        exports.to_xlsx(header, rows, "Registrations"), name,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

