"""Pages without an account: guests register and confirm by e-mail, then use their own
page (a link with an HMAC key); anyone may check that a certificate is genuine."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import tokens
from portal.db import utcnow
from portal.events import bp, certificates, downloads, policy, registration, services
from portal.events.calendar import ics_for
from portal.events.forms import ActionForm, FeedbackForm, GuestForm
from portal.events.models import (
    Certificate,
    Event,
    EventMaterial,
    EventStatus,
    Registration,
    RegStatus,
)
from portal.events.routes import pass_qr
from portal.extensions import db, limiter


def _guest_event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or not event.guests_allowed or event.status == EventStatus.DRAFT:
        abort(404)
    return event


@bp.route("/events/<int:event_id>/guest", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], scope="event-guest")
def guest_register(event_id: int):
    event = _guest_event(event_id)
    form = GuestForm()
    if event.registration_open() and form.validate_on_submit():
        try:
            registration.request_guest(
                event, name=form.name.data, email=form.email.data,
                institution=form.institution.data, language=str(get_locale() or "en"))
        except registration.RegistrationError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("events.guest_register", event_id=event_id), 303)
        db.session.commit()
        return render_template("events/guest_sent.html", event=event, email=form.email.data)
    return render_template("events/guest_register.html", event=event, form=form,
                           open=event.registration_open()), 422 if form.errors else 200


@bp.route("/events/guest/confirm/<token>", methods=["GET", "POST"])
def guest_confirm(token: str):
    """GET only shows a button: mail scanners that open links must not use the token."""
    pending = tokens.peek(registration.GUEST_TOKEN, token)
    form = ActionForm()
    if pending is None:
        return render_template("events/guest_link_invalid.html"), 410
    if form.validate_on_submit():
        try:
            reg, key = registration.confirm_guest(token)
        except registration.RegistrationError as exc:
            db.session.rollback()
            return render_template("events/guest_link_invalid.html", message=exc.message), 410
        reg_id, status = reg.id, reg.status
        db.session.commit()
        flash(_("Confirmed: you are registered.") if status == RegStatus.REGISTERED else
              _("Confirmed. The event is full, so you are on the waitlist; we write to you "
                "when a seat is yours."), "success" if status == RegStatus.REGISTERED
              else "warning")
        return redirect(url_for("events.guest_page", registration_id=reg_id, key=key), 303)
    reg = db.session.get(Registration, pending.payload.get("registration_id"))
    event = db.session.get(Event, reg.event_id) if reg is not None else None
    if event is None:
        return render_template("events/guest_link_invalid.html"), 410
    return render_template("events/guest_confirm.html", event=event, form=form, reg=reg)


def _guest(registration_id: int, key: str) -> Registration:
    reg = registration.guest_by_key(registration_id, key)
    if reg is None or reg.event.status == EventStatus.DRAFT:
        abort(404)
    return reg


@bp.route("/events/guest/<int:registration_id>/<key>")
def guest_page(registration_id: int, key: str):
    reg = _guest(registration_id, key)
    event = reg.event
    visible = policy.sees_materials(None, reg)
    return render_template(
        "events/guest_page.html", event=event, registration=reg, key=key, form=ActionForm(),
        materials=services.materials_of(event.id) if visible else [], show_link=visible,
        rank=services.waitlist_ranks(event.id).get(reg.id),
        qr=pass_qr(reg.pass_code) if reg.status == RegStatus.REGISTERED else None,
        may_cancel=policy.may_cancel(event, reg),
        has_certificate=policy.has_certificate(event, reg),
        feedback=services.feedback_of(reg.id) if reg.attended else None,
        feedback_form=FeedbackForm())


@bp.post("/events/guest/<int:registration_id>/<key>/cancel")
def guest_cancel(registration_id: int, key: str):
    reg = _guest(registration_id, key)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        registration.cancel(reg)
    except registration.RegistrationError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Your registration is cancelled."), "success")
    return redirect(url_for("events.guest_page", registration_id=registration_id, key=key), 303)


@bp.route("/events/guest/<int:registration_id>/<key>/calendar.ics")
def guest_calendar(registration_id: int, key: str):
    reg = _guest(registration_id, key)
    event = reg.event
    link = event.online_link if policy.sees_online_link(None, reg) and event.has_online_part \
        else ""
    data = ics_for(event, url=url_for("events.guest_page", registration_id=registration_id,
                                      key=key, _external=True), online_link=link)
    return downloads.send_bytes(data, f"event-{event.id}.ics", "text/calendar")


@bp.route("/events/guest/<int:registration_id>/<key>/materials/<int:material_id>")
def guest_material(registration_id: int, key: str, material_id: int):
    reg = _guest(registration_id, key)
    if not policy.sees_materials(None, reg):
        abort(404)
    item = db.session.scalars(select(EventMaterial).options(joinedload(EventMaterial.blob))
                              .where(EventMaterial.id == material_id,
                                     EventMaterial.event_id == reg.event_id)).first()
    if item is None:
        abort(404)
    return downloads.send_material(item, who=f"guest:{reg.id}")


@bp.post("/events/guest/<int:registration_id>/<key>/certificate")
def guest_prepare_certificate(registration_id: int, key: str):
    reg = _guest(registration_id, key)
    if not ActionForm().validate_on_submit() or not policy.has_certificate(reg.event, reg):
        abort(404)
    certificates.issue(reg, reg.event)
    db.session.commit()
    return redirect(url_for("events.guest_certificate", registration_id=registration_id,
                            key=key), 303)


@bp.route("/events/guest/<int:registration_id>/<key>/certificate.pdf")
def guest_certificate(registration_id: int, key: str):
    reg = _guest(registration_id, key)
    if not policy.has_certificate(reg.event, reg):
        abort(404)
    cert = db.session.scalars(select(Certificate).where(
        Certificate.registration_id == reg.id)).first()
    if cert is None:
        return redirect(url_for("events.guest_page", registration_id=registration_id,
                                key=key), 303)
    data = certificates.render_pdf(cert, reg.event, reg.guest_language or "en")
    return downloads.send_bytes(data, f"certificate-{reg.event_id}.pdf", "application/pdf")


@bp.post("/events/guest/<int:registration_id>/<key>/feedback")
def guest_feedback(registration_id: int, key: str):
    reg = _guest(registration_id, key)
    form = FeedbackForm()
    if not policy.may_give_feedback(reg.event, reg):
        abort(404)
    if form.validate_on_submit():
        if services.give_feedback(reg, int(form.rating.data), form.comment.data or ""):
            db.session.commit()
            flash(_("Thank you for your feedback."), "success")
        else:
            db.session.rollback()
            flash(_("You have already answered this survey."), "info")
    else:
        flash(_("Choose a rating from 1 to 5."), "error")
    return redirect(url_for("events.guest_page", registration_id=registration_id, key=key), 303)


@bp.route("/certificates/<code>")
@limiter.limit("60 per minute", scope="certificate-check")
def verify_certificate(code: str):
    """Public: only what is printed (name, event, date, hours), nothing else."""
    cert = db.session.scalars(select(Certificate).where(Certificate.code == code[:40])).first()
    if cert is None:
        return render_template("events/certificate_unknown.html"), 404
    return render_template("events/certificate_check.html", certificate=cert,
                           checked_at=utcnow())
