"""The pages of an event for the people who take part: alumni and guests, one set of views.

Each view takes a `Viewer` (viewer.py) and is registered twice by `@for_both`: under the
alumni URL (`/events/<id>/...`, signed-in alumni) and under the guest's personal link
(`/events/guest/<registration>/<key>/...`). The endpoints and URLs are the ones e-mailed
links and bookmarks already use. Events or links one may not know are 404 on both sides.
A few pages exist on the alumni side only (the list, the live seat count, registering,
the pass page, the feedback page); guests register through public_routes.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from flask import abort, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Role
from portal.accounts.policy import role_required
from portal.events import bp, certificates, registration, viewer
from portal.events.calendar import ics_for
from portal.events.codes import pass_qr
from portal.events.forms import ActionForm, FeedbackForm
from portal.events.links import ALUMNUS_ENDPOINTS, GUEST_ENDPOINTS
from portal.events.viewer import Viewer
from portal.listing import int_param
from portal.security import background
from portal.storage.handout import blob_item, send_generated, send_item
from portal.web import absolute, back_to, page_or_partial

alumni_only = role_required(Role.ALUMNUS)

View: TypeAlias = Callable[..., ResponseReturnValue]


def _alumnus_viewer(event_id: int) -> Viewer:
    found = viewer.for_alumnus(event_id, current_user, language=str(get_locale() or "en"))
    if found is None:
        abort(404)
    return found


def _guest_viewer(registration_id: int, key: str) -> Viewer:
    found = viewer.for_guest(registration_id, key)
    if found is None:
        abort(404)
    return found


def for_both(action: str, alumni_rule: str, guest_rule: str | None, *,
             methods: tuple[str, ...] = ("GET",),
             guest_methods: tuple[str, ...] | None = None) -> Callable[[View], View]:
    """Register `view(viewer, **values)` for alumni (`/events/<event_id><alumni_rule>`)
    and, if `guest_rule` is given, for guests (`/events/guest/<registration_id>/<key>
    <guest_rule>`), under the endpoints of links.py."""

    def decorator(view: View) -> View:
        @alumni_only
        def as_alumnus(event_id: int, **values: object) -> ResponseReturnValue:
            return view(_alumnus_viewer(event_id), **values)

        bp.add_url_rule(f"/events/<int:event_id>{alumni_rule}",
                        ALUMNUS_ENDPOINTS[action].removeprefix("events."), as_alumnus,
                        methods=list(methods))
        if guest_rule is not None:
            def as_guest(registration_id: int, key: str, **values: object) -> ResponseReturnValue:
                return view(_guest_viewer(registration_id, key), **values)

            bp.add_url_rule(f"/events/guest/<int:registration_id>/<key>{guest_rule}",
                            GUEST_ENDPOINTS[action].removeprefix("events."), as_guest,
                            methods=list(guest_methods or methods))
        return view

    return decorator


# --- alumni only ----------------------------------------------------------------------------

@bp.route("/events")
@alumni_only
def index() -> ResponseReturnValue:
    return render_template("events/index.html", **viewer.events_page(current_user))


@bp.route("/events/<int:event_id>/seats")
@alumni_only
@background  # polled every 10 s: not activity (the session still times out)
def seats(event_id: int) -> ResponseReturnValue:
    """The small fragment htmx polls: seats left, live."""
    event = _alumnus_viewer(event_id).event
    return page_or_partial("events/seats.html", "events/_seats.html", event=event)


@bp.post("/events/<int:event_id>/register")
@alumni_only
def register(event_id: int) -> ResponseReturnValue:
    seen = _alumnus_viewer(event_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if seen.alumnus is None:
        abort(404)
    back_to(seen.page_url)
    reg = registration.register_alumnus(seen.event, seen.alumnus)
    if reg.holds_seat:
        flash(_("You are registered. A confirmation with a calendar file is on its way."),
              "success")
    else:
        flash(_("The event is full: you are on the waitlist. We write to you when a seat "
                "is yours."), "warning")
    return redirect(seen.page_url, 303)


@bp.route("/events/<int:event_id>/pass")
@alumni_only
def pass_page(event_id: int) -> ResponseReturnValue:
    seen = _alumnus_viewer(event_id)
    if seen.registration is None or not seen.holds_seat:
        abort(404)
    return render_template("events/pass.html", viewer=seen, event=seen.event,
                           registration=seen.registration, name=seen.name,
                           qr=pass_qr(seen.registration.pass_code))


# --- alumni and guests ----------------------------------------------------------------------

@for_both("page", "", "")
def show(seen: Viewer) -> ResponseReturnValue:
    return render_template("events/show.html", viewer=seen, event=seen.event,
                           registration=seen.registration, page=viewer.event_page(seen),
                           form=ActionForm(), feedback_form=FeedbackForm(formdata=None))


@for_both("cancel", "/cancel", "/cancel", methods=("POST",))
def cancel(seen: Viewer) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit() or seen.registration is None:
        abort(404)
    back_to(seen.page_url)
    registration.cancel(seen.registration, acting_as=seen.acting_as)
    flash(_("Your registration is cancelled."), "success")
    return redirect(seen.page_url, 303)


@for_both("calendar", "/calendar.ics", "/calendar.ics")
def calendar(seen: Viewer) -> ResponseReturnValue:
    event = seen.event
    link = event.online_link if seen.sees_online_link and event.has_online_part else ""
    data = ics_for(event, url=absolute(seen.page_url), online_link=link)
    return send_generated(data, f"event-{event.id}.ics", "text/calendar")


@for_both("material", "/materials/<int:material_id>", "/materials/<int:material_id>")
def material(seen: Viewer, material_id: int) -> ResponseReturnValue:
    found = viewer.material_for(seen, material_id)
    if found is None:
        abort(404)
    item = blob_item(found.blob, object_type="blob",
                     details={"event_id": found.event_id, "material_id": found.id,
                              "as": seen.audit_as})
    return send_item(item, actor=seen.user)


@for_both("prepare_certificate", "/certificate", "/certificate", methods=("POST",))
def prepare_certificate(seen: Viewer) -> ResponseReturnValue:
    """Issue the certificate once (a write, hence POST), then download it."""
    if not ActionForm().validate_on_submit() or not seen.has_certificate:
        abort(404)
    viewer.prepare_certificate(seen)
    return redirect(seen.url("certificate") or seen.page_url, 303)


@for_both("certificate", "/certificate.pdf", "/certificate.pdf")
def certificate(seen: Viewer) -> ResponseReturnValue:
    if not seen.has_certificate:
        abort(404)
    issued = viewer.certificate_of(seen)
    if issued is None:
        return redirect(seen.page_url, 303)
    data = certificates.render_pdf(issued, seen.event, seen.language)
    return send_generated(data, f"certificate-{seen.event.id}.pdf", "application/pdf")


@for_both("feedback", "/feedback", "/feedback", methods=("GET", "POST"),
          guest_methods=("POST",))
def feedback(seen: Viewer) -> ResponseReturnValue:
    """The survey after the event: a form on the event page, and for alumni a page of its
    own too. Answered once."""
    if not seen.may_give_feedback or seen.registration is None:
        abort(404)
    done = viewer.feedback_of(seen.registration.id)
    form = FeedbackForm()
    back_to(seen.page_url)
    if request.method == "POST" and (done is not None or form.validate_on_submit()):
        rating = int_param(request.form, "rating", low=1, high=5) or 0
        viewer.give_feedback(seen, rating, form.comment.data or "")
        flash(_("Thank you for your feedback."), "success")
        return redirect(seen.page_url, 303)
    return render_template("events/feedback.html", viewer=seen, event=seen.event, form=form,
                           done=done), 422 if form.errors else 200
