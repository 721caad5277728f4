"""Pages without an account: guests ask for a seat and confirm it by e-mail (then use their
personal page, routes.py); anyone may check that a certificate is genuine.

Rate limits per IP address are settings (EVENT_GUEST_LIMIT, CERTIFICATE_CHECK_LIMIT).
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from portal import tokens
from portal.db import utcnow
from portal.events import bp, policy, registration
from portal.events.codes import GUEST_TOKEN
from portal.events.errors import LinkInvalid
from portal.events.forms import ActionForm, GuestForm
from portal.events.models import Certificate, Event, Registration
from portal.extensions import db, limiter
from portal.web import back_to


def guest_limit() -> str:
    return str(current_app.config["EVENT_GUEST_LIMIT"])


def certificate_check_limit() -> str:
    return str(current_app.config["CERTIFICATE_CHECK_LIMIT"])


@bp.errorhandler(LinkInvalid)
def link_invalid(error: LinkInvalid) -> ResponseReturnValue:
    """A confirmation that failed: the link's own page says why (the transaction is
    already rolled back, so nothing of the attempt stays)."""
    return render_template("events/guest_link_invalid.html", message=str(error)), 410


def _guest_event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or not policy.guest_form_open(event):
        abort(404)
    return event


@bp.route("/events/<int:event_id>/guest", methods=["GET", "POST"])
@limiter.limit(guest_limit, methods=["POST"], scope="event-guest")
def guest_register(event_id: int) -> ResponseReturnValue:
    event = _guest_event(event_id)
    form = GuestForm()
    if event.registration_open() and form.validate_on_submit():
        back_to(url_for("events.guest_register", event_id=event_id))
        try:
            registration.request_guest(
                event, name=form.name.data or "", email=form.email.data or "",
                institution=form.institution.data or "", language=str(get_locale() or "en"))
        except registration.GuestKnown as known:
            # The answer is the same for every address; a confirmed guest gets their
            # personal link again, by e-mail only.
            registration.send_personal_link(known.registration_id)
        return render_template(
            "events/guest_sent.html", event=event, email=form.email.data,
            hours=current_app.config["EVENT_GUEST_LINK_HOURS"])
    return render_template("events/guest_register.html", event=event, form=form,
                           open=event.registration_open()), 422 if form.errors else 200


@bp.route("/events/guest/confirm/<token>", methods=["GET", "POST"])
def guest_confirm(token: str) -> ResponseReturnValue:
    """GET only shows a button: mail scanners that open links must not use the token."""
    pending = tokens.peek(GUEST_TOKEN, token)
    if pending is None:
        return render_template("events/guest_link_invalid.html"), 410
    form = ActionForm()
    if form.validate_on_submit():
        reg, key = registration.confirm_guest(token)  # LinkInvalid: link_invalid above
        if reg.holds_seat:
            flash(_("Confirmed: you are registered."), "success")
        else:
            flash(_("Confirmed. The event is full, so you are on the waitlist; we write to "
                    "you when a seat is yours."), "warning")
        return redirect(url_for("events.guest_page", registration_id=reg.id, key=key), 303)
    asked = db.session.get(Registration, pending.payload.get("registration_id"))
    event = db.session.get(Event, asked.event_id) if asked is not None else None
    if event is None:
        return render_template("events/guest_link_invalid.html"), 410
    return render_template("events/guest_confirm.html", event=event, form=form, reg=asked)


@bp.route("/certificates/<code>")
@limiter.limit(certificate_check_limit, scope="certificate-check")
def verify_certificate(code: str) -> ResponseReturnValue:
    """Public: only what is printed (name, event, date, hours), nothing else."""
    cert = db.session.scalars(select(Certificate).where(Certificate.code == code[:40])).first()
    if cert is None:
        return render_template("events/certificate_unknown.html"), 404
    return render_template("events/certificate_check.html", certificate=cert,
                           checked_at=utcnow())
