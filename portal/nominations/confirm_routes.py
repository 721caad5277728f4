"""One-time links for people without an account: the head of the institution endorses,
the candidate consents (or asks for a correction)."""

from __future__ import annotations

from flask import render_template, request

from portal.audit.services import client_ip
from portal.cycles.models import Cycle
from portal.extensions import db, limiter
from portal.nominations import bp, confirmations
from portal.nominations.forms import DecisionForm
from portal.nominations.models import Nomination

TEMPLATES = {confirmations.ENDORSEMENT: "nominations/endorse.html",
             confirmations.CONSENT: "nominations/consent.html"}


def _answer(kind: str, secret: str):  # noqa: ANN202
    form = DecisionForm()
    if request.method == "POST":
        try:
            confirmation = confirmations.decide(kind, secret, form.decision.data or "",
                                                form.comment.data or "", client_ip())
        except confirmations.ConfirmationError as e:
            db.session.rollback()
            confirmation, reason = confirmations.open_link(kind, secret)
            if confirmation is None:
                return render_template("nominations/link_done.html", message=reason), 410
            return _page(kind, confirmation, form, str(e.message), 422)
        db.session.commit()
        return render_template("nominations/link_done.html", answered=confirmation,
                               kind=kind, message=None)
    confirmation, reason = confirmations.open_link(kind, secret)
    if confirmation is None:
        return render_template("nominations/link_done.html", message=reason), 410
    return _page(kind, confirmation, form, None, 200)


def _page(kind: str, confirmation, form, error, status):  # noqa: ANN001, ANN202
    nomination = db.session.get(Nomination, confirmation.nomination_id)
    cycle = db.session.get(Cycle, nomination.cycle_id)
    return render_template(TEMPLATES[kind], confirmation=confirmation, data=confirmation.snapshot,
                           form=form, error=error, cycle=cycle), status


@bp.route("/confirm/endorsement/<secret>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"], scope="nomination-confirm")
def endorse(secret: str):
    return _answer(confirmations.ENDORSEMENT, secret)


@bp.route("/confirm/consent/<secret>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"], scope="nomination-confirm")
def consent(secret: str):
    return _answer(confirmations.CONSENT, secret)


