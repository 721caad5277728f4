"""One-time links for people without an account: the head of the institution endorses,
the candidate consents (or asks for a correction)."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue

from portal.cycles.models import Cycle
from portal.extensions import db, limiter
from portal.nominations import bp, confirmations
from portal.nominations.forms import DecisionForm
from portal.nominations.models import Confirmation, Nomination
from portal.nominations.origin import request_origin

TEMPLATES = {confirmations.ENDORSEMENT: "nominations/endorse.html",
             confirmations.CONSENT: "nominations/consent.html"}


def _limit() -> str:
    """Answers per IP to these public links (CONFIRM_LINK_LIMIT)."""
    return str(current_app.config["CONFIRM_LINK_LIMIT"])


def _closed(reason: object) -> ResponseReturnValue:
    return render_template("nominations/link_done.html", message=reason), 410


def _answer(kind: str, secret: str) -> ResponseReturnValue:
    form = DecisionForm()
    if request.method == "POST":
        try:
            answered = confirmations.decide(kind, secret, form.decision.data or "",
                                            form.comment.data or "", request_origin())
        except confirmations.ConfirmationError as e:
            # The page is the answer here (the person has no account to go back to): the
            # form again with the message, or why the link is closed. The service refused
            # before it changed anything.
            still, reason = confirmations.open_link(kind, secret)
            if still is None:
                return _closed(reason)
            return _page(kind, still, form, str(e.message), 422)
        return render_template("nominations/link_done.html", answered=answered,
                               kind=kind, message=None)
    confirmation, reason = confirmations.open_link(kind, secret)
    if confirmation is None:
        return _closed(reason)
    return _page(kind, confirmation, form, None, 200)


def _page(kind: str, confirmation: Confirmation, form: DecisionForm, error: str | None,
          status: int) -> ResponseReturnValue:
    nomination = db.session.get(Nomination, confirmation.nomination_id)
    cycle = db.session.get(Cycle, nomination.cycle_id) if nomination is not None else None
    return render_template(TEMPLATES[kind], confirmation=confirmation, data=confirmation.snapshot,
                           form=form, error=error, cycle=cycle), status


@bp.route("/confirm/endorsement/<secret>", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"], scope="nomination-confirm")
def endorse(secret: str) -> ResponseReturnValue:
    return _answer(confirmations.ENDORSEMENT, secret)


@bp.route("/confirm/consent/<secret>", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"], scope="nomination-confirm")
def consent(secret: str) -> ResponseReturnValue:
    return _answer(confirmations.CONSENT, secret)
