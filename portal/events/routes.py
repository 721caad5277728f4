"""The alumni side: upcoming events, registering and cancelling, pass, files, certificate,
feedback. Every page goes through policy.may_view (404 for events one may not know)."""

from __future__ import annotations

from dataclasses import dataclass

import segno
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.accounts.models import Role
from portal.accounts.policy import role_required
from portal.alumni.models import Alumnus
from portal.events import bp, certificates, downloads, policy, registration, services
from portal.events.calendar import ics_for
from portal.events.forms import ActionForm, FeedbackForm
from portal.events.models import Event, EventMaterial, Registration, RegStatus
from portal.extensions import db
from portal.web import page_or_partial

alumni_only = role_required(Role.ALUMNUS)


@dataclass
class Visit:
    event: Event
    alumnus: Alumnus | None
    registration: Registration | None


def _visit(event_id: int) -> Visit:
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    alumnus = policy.alumnus_of(current_user)
    reg = policy.registration_of(event_id, alumnus)
    if not policy.may_view(current_user, event, alumnus, reg):
        abort(404)
    return Visit(event, alumnus, reg)


@bp.route("/events")
@alumni_only
def index():
    alumnus = policy.alumnus_of(current_user)
    events = services.events_for(current_user, alumnus)
    mine = {r.event_id: r for r in services.my_registrations(alumnus)}
    past = [r for r in mine.values() if r.event.is_over()]
    return render_template("events/index.html", events=events, mine=mine, past=past,
                           alumnus=alumnus)


@bp.route("/events/<int:event_id>")
@alumni_only
def show(event_id: int):
    visit = _visit(event_id)
    reg = visit.registration
    materials = services.materials_of(event_id) if policy.sees_materials(current_user, reg) \
        else []
    rank = services.waitlist_ranks(event_id).get(reg.id) \
        if reg is not None and reg.status == RegStatus.WAITLISTED else None
    feedback = services.feedback_of(reg.id) if reg is not None and reg.attended else None
    return render_template(
        "events/show.html", event=visit.event, registration=reg, alumnus=visit.alumnus,
        materials=materials, rank=rank, feedback=feedback, form=ActionForm(),
        eligible=policy.eligible(visit.event, visit.alumnus),
        show_link=policy.sees_online_link(current_user, reg),
        may_cancel=policy.may_cancel(visit.event, reg),
        has_certificate=policy.has_certificate(visit.event, reg))


@bp.route("/events/<int:event_id>/seats")
@alumni_only
def seats(event_id: int):
    """The small fragment htmx polls: seats left, live."""
    visit = _visit(event_id)
    return page_or_partial("events/seats.html", "events/_seats.html", event=visit.event)


@bp.post("/events/<int:event_id>/register")
@alumni_only
def register(event_id: int):
    visit = _visit(event_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        reg = registration.register_alumnus(visit.event, visit.alumnus)
    except registration.RegistrationError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("events.show", event_id=event_id), 303)
    status = reg.status
    db.session.commit()
    if status == RegStatus.REGISTERED:
        flash(_("You are registered. A confirmation with a calendar file is on its way."),
              "success")
    else:
        flash(_("The event is full: you are on the waitlist. We write to you when a seat "
                "is yours."), "warning")
    return redirect(url_for("events.show", event_id=event_id), 303)


@bp.post("/events/<int:event_id>/cancel")
@alumni_only
def cancel(event_id: int):
    visit = _visit(event_id)
    if not ActionForm().validate_on_submit() or visit.registration is None:
        abort(404)
    try:
        registration.cancel(visit.registration)
    except registration.RegistrationError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Your registration is cancelled."), "success")
    return redirect(url_for("events.show", event_id=event_id), 303)


@bp.route("/events/<int:event_id>/pass")
@alumni_only
def pass_page(event_id: int):
    visit = _visit(event_id)
    reg = visit.registration
    if reg is None or reg.status != RegStatus.REGISTERED:
        abort(404)
    return render_template("events/pass.html", event=visit.event, registration=reg,
                           name=visit.alumnus.display_name, qr=pass_qr(reg.pass_code))


def pass_qr(code: str) -> str:
    return segno.make(code, error="q").svg_inline(scale=8, dark="#111", light="#fff")


@bp.route("/events/<int:event_id>/calendar.ics")
@alumni_only
def calendar(event_id: int):
    visit = _visit(event_id)
    link = visit.event.online_link if policy.sees_online_link(
        current_user, visit.registration) and visit.event.has_online_part else ""
    data = ics_for(visit.event, url=url_for("events.show", event_id=event_id, _external=True),
                   online_link=link)
    return downloads.send_bytes(data, f"event-{event_id}.ics", "text/calendar")


@bp.route("/events/<int:event_id>/materials/<int:material_id>")
@alumni_only
def material(event_id: int, material_id: int):
    visit = _visit(event_id)
    if not policy.sees_materials(current_user, visit.registration):
        abort(404)
    item = db.session.scalars(select(EventMaterial).options(joinedload(EventMaterial.blob))
                              .where(EventMaterial.id == material_id,
                                     EventMaterial.event_id == event_id)).first()
    if item is None:
        abort(404)
    return downloads.send_material(item, who="registrant")


@bp.post("/events/<int:event_id>/certificate")
@alumni_only
def prepare_certificate(event_id: int):
    """Issue the certificate once (a write, hence POST), then download it."""
    visit = _visit(event_id)
    reg = visit.registration
    if not ActionForm().validate_on_submit() or not policy.has_certificate(visit.event, reg):
        abort(404)
    reg = _with_alumnus(reg.id)
    certificates.issue(reg, visit.event)
    db.session.commit()
    return redirect(url_for("events.certificate", event_id=event_id), 303)


@bp.route("/events/<int:event_id>/certificate.pdf")
@alumni_only
def certificate(event_id: int):
    visit = _visit(event_id)
    reg = visit.registration
    if not policy.has_certificate(visit.event, reg):
        abort(404)
    reg = _with_alumnus(reg.id)
    if reg.certificate is None:
        return redirect(url_for("events.show", event_id=event_id), 303)
    data = certificates.render_pdf(reg.certificate, visit.event, str(get_locale() or "en"))
    return downloads.send_bytes(data, f"certificate-{event_id}.pdf", "application/pdf")


def _with_alumnus(registration_id: int) -> Registration:
    return db.session.scalars(
        select(Registration)
        .options(joinedload(Registration.alumnus), joinedload(Registration.certificate))
        .where(Registration.id == registration_id)
        .execution_options(populate_existing=True)).one()


@bp.route("/events/<int:event_id>/feedback", methods=["GET", "POST"])
@alumni_only
def feedback(event_id: int):
    visit = _visit(event_id)
    reg = visit.registration
    if not policy.may_give_feedback(visit.event, reg):
        abort(404)
    done = services.feedback_of(reg.id)
    form = FeedbackForm()
    if done is not None and request.method == "POST":
        flash(_("You have already answered this survey."), "info")
        return redirect(url_for("events.show", event_id=event_id), 303)
    if form.validate_on_submit():
        if services.give_feedback(reg, int(form.rating.data), form.comment.data or ""):
            db.session.commit()
            flash(_("Thank you for your feedback."), "success")
        else:
            db.session.rollback()
            flash(_("You have already answered this survey."), "info")
        return redirect(url_for("events.show", event_id=event_id), 303)
    return render_template("events/feedback.html", event=visit.event, form=form,
                           done=done), 422 if form.errors else 200
