"""State changes of a nomination: submit (and resubmit), withdraw, return for changes,
start the review.

Every change is a move of the lifecycle table (portal.nominations.lifecycle): the move is
checked with `NOMINATION.check` for the actor's roles on this nomination (a move not in
the table is refused, whoever asks), then made by a conditional UPDATE whose WHERE holds
the table's source states, so two requests at once cannot both move the same nomination.
Each move writes a history entry named by the move and an audit record with the actor
passed in. Services never commit: the request (or the unit of work) does.
"""

from __future__ import annotations

from typing import Any, cast

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import CursorResult, func, select, update

from portal.accounts.models import User
from portal.audit.services import record
from portal.cycles.models import Cycle
from portal.db import utcnow
from portal.errors import Conflict, Refused
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations import confirmations, history, hooks, policy, services
from portal.nominations.deadlines import deadline_message, window_allows
from portal.nominations.labels import FIELD_LABELS
from portal.nominations.lifecycle import COUNTED_STATES, NOMINATION
from portal.nominations.mails import notify_returned, send_receipt
from portal.nominations.models import Confirmation, Nomination, NominationEvent, ReturnNote


class WorkflowError(Refused):
    """A refused change; its message is shown to the user as it is (translated)."""


SUBMIT_DONE = _l("This nomination has already been submitted.")
SUBMIT_REFUSED = _l("This nomination cannot be submitted in its current state.")


def _move(nomination: Nomination, actor: User | None, name: str, *, comment: str = "",
          values: dict[str, Any] | None = None, refusal: LazyString | None = None,
          done: LazyString | None = None,
          ) -> NominationEvent:
    """Make move `name` of the table by `actor`, or raise (Refused, or Conflict when it
    has been made already). `values` are written with the new state."""
    roles = policy.actor_roles(actor, nomination)
    move = NOMINATION.check(nomination.state, name, roles, refusal=refusal, done=done)
    sources = frozenset[str]().union(*(NOMINATION.sources(name, role) for role in roles))
    from_state = nomination.state
    result = db.session.execute(
        update(Nomination)
        .where(Nomination.id == nomination.id, Nomination.state.in_(sources))
        .values(state=move.target, **(values or {})))
    if cast(CursorResult[Any], result).rowcount != 1:
        # Another request moved it since it was read: say what it is now.
        db.session.refresh(nomination)
        NOMINATION.check(nomination.state, name, roles, refusal=refusal, done=done)
        raise Conflict(_l("Someone else changed this nomination at the same moment. Please "
                          "reload the page."), code="race")
    event = history.add(nomination, actor, move.name, from_state=from_state,
                        to_state=move.target, comment=comment)
    record(f"nomination.{move.target}", actor=actor, object_type="nomination",
           object_id=nomination.id,
           details={"from": from_state, "to": move.target, "reference": nomination.reference})
    hooks.moved(nomination, move.name, actor)  # higher areas follow (review: its reviewers)
    return event


def _lock(nomination: Nomination, cycle: Cycle) -> None:
    """Serialize submissions that count against the same limit.

    PostgreSQL: row locks (the institution's, plus the cycle's when a per-country limit
    applies; always in that order, so two submitters cannot deadlock). SQLite: writing
    transactions begin IMMEDIATE and hold the database write lock already.
    """
    if cycle.max_submissions_per_country is not None:
        db.session.execute(select(Cycle.id).where(Cycle.id == cycle.id).with_for_update())
    db.session.execute(
        select(Institution.id).where(Institution.id == nomination.institution_id)
        .with_for_update())
    # Read the state again now that we hold the lock: another tab may have submitted.
    db.session.refresh(nomination)


def _count(cycle_id: int, *conditions: Any) -> int:
    return db.session.scalar(
        select(func.count(Nomination.id)).where(
            Nomination.cycle_id == cycle_id, Nomination.state.in_(COUNTED_STATES), *conditions)
    ) or 0


def check_limits(nomination: Nomination, cycle: Cycle) -> None:
    """Raise if a first submission would exceed the cycle's submission limits."""
    limit = cycle.max_submissions_per_institution
    if limit is not None and _count(
            cycle.id, Nomination.institution_id == nomination.institution_id,
            Nomination.id != nomination.id) >= limit:
        raise WorkflowError(_l(
            "Your institution has already submitted %(n)d nominations, the most this cycle "
            "allows. Withdraw one to submit this one.", n=limit))
    limit = cycle.max_submissions_per_country
    if limit is not None and _count(
            cycle.id, Nomination.country == nomination.country,
            Nomination.id != nomination.id) >= limit:
        raise WorkflowError(_l(
            "The limit of %(n)d nominations from your country for this cycle has been "
            "reached.", n=limit))


def blocking_reasons(nomination: Nomination, cycle: Cycle) -> list[Any]:
    """Why the nomination cannot be submitted now (empty when it can); lazy strings."""
    reasons: list[Any] = []
    if not window_allows(nomination, cycle):
        reasons.append(deadline_message(cycle))
    checklist = services.load_checklist(nomination, cycle)
    if checklist.missing_fields:
        labels = [label for _f, label in checklist.missing_fields]
        reasons.append(LazyString(lambda: gettext(
            "Some candidate details are missing: %(fields)s.",
            fields=", ".join(str(label) for label in labels))))
    if checklist.missing_documents:
        docs = [r.requirement.label for r in checklist.missing_documents]
        reasons.append(_l("Some documents are missing or not valid: %(docs)s.",
                          docs=", ".join(docs)))
    reasons.extend(checklist.problems)
    status = confirmations.status(nomination)
    if cycle.endorsement_required and not status.endorsed:
        reasons.append(_voided(status.endorsement, _l(
            "The endorsement must be asked for again: %(fields)s changed after the head of "
            "your institution was asked.")) or _l(
            "The head of your institution has not endorsed this nomination yet."))
    if not status.consented:
        reasons.append(_voided(status.consent, _l(
            "The candidate's consent must be asked for again: %(fields)s changed after the "
            "candidate was asked.")) or _l("The candidate has not given consent yet."))
    return reasons


def _voided(confirmation: Confirmation | None, text: LazyString) -> LazyString | None:
    """Why a voided confirmation does not count (`text` names the fields), else None."""
    if confirmation is None or confirmation.voided_at is None:
        return None
    fields = list(confirmation.voided_fields or [])
    return LazyString(lambda: str(text) % {"fields": confirmations.field_list(fields)})


def submit(nomination: Nomination, actor: User | None) -> None:
    """Submit, or resubmit after a return; checks everything under the limit lock."""
    cycle = db.session.get(Cycle, nomination.cycle_id)
    assert cycle is not None  # a foreign key
    _lock(nomination, cycle)
    name = policy.submit_move(nomination)
    NOMINATION.check(nomination.state, name, policy.actor_roles(actor, nomination),
                     refusal=SUBMIT_REFUSED, done=SUBMIT_DONE)
    if not window_allows(nomination, cycle):
        raise WorkflowError(deadline_message(cycle), code="deadline")
    reasons = blocking_reasons(nomination, cycle)
    if reasons:
        raise WorkflowError(LazyString(lambda: " ".join(str(r) for r in reasons)),
                            code="incomplete", reasons=reasons)
    if name == "submit":  # a returned nomination holds its slot already
        check_limits(nomination, cycle)
    now = utcnow()
    if name == "resubmit":
        db.session.execute(
            update(ReturnNote)
            .where(ReturnNote.nomination_id == nomination.id, ReturnNote.resolved_at.is_(None))
            .values(resolved_at=now))
    _move(nomination, actor, name, values={"submitted_at": now, "is_complete": True},
          refusal=SUBMIT_REFUSED, done=SUBMIT_DONE)
    send_receipt(nomination, cycle, actor)


def withdraw(nomination: Nomination, actor: User | None, reason: str) -> None:
    roles = policy.actor_roles(actor, nomination)
    refusal = _l("This nomination cannot be withdrawn any more.")
    done = _l("This nomination has already been withdrawn.")
    NOMINATION.check(nomination.state, "withdraw", roles, refusal=refusal, done=done)
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_l("Please give a reason for withdrawing the nomination."))
    _move(nomination, actor, "withdraw", values={"withdrawn_reason": reason}, comment=reason,
          refusal=refusal, done=done)


RETURN_REFUSED = _l("Only submitted nominations can be returned for changes.")
RETURN_DONE = _l("This nomination has already been returned for changes.")


def return_for_changes(
    nomination: Nomination, actor: User | None, comment: str,
    notes: list[tuple[str | None, int | None, str]],
) -> NominationEvent:
    """Staff send a nomination back with a general comment and notes per field/document."""
    NOMINATION.check(nomination.state, "return", policy.actor_roles(actor, nomination),
                     refusal=RETURN_REFUSED, done=RETURN_DONE)
    comment = (comment or "").strip()
    clean = [(f or None, r, (c or "").strip()) for f, r, c in notes if (c or "").strip()]
    if not comment and not clean:
        raise WorkflowError(_l("Say what the institution should change."))
    for field, _req, _c in clean:
        if field is not None and field not in FIELD_LABELS:
            raise WorkflowError(_l("Unknown field: %(field)s", field=field))
    event = _move(nomination, actor, "return", values={"is_complete": False},
                  comment=comment, refusal=RETURN_REFUSED, done=RETURN_DONE)
    db.session.flush()
    for field, requirement_id, text in clean:
        db.session.add(ReturnNote(nomination_id=nomination.id, event_id=event.id,
                                  field=field, requirement_id=requirement_id, comment=text))
    notify_returned(nomination, comment, len(clean))
    return event


def mark_under_review(nomination: Nomination, actor: User | None) -> None:
    """Staff start the review (the table's move "start_review")."""
    _move(nomination, actor, "start_review",
          refusal=_l("Only submitted nominations can be put under review."),
          done=_l("This nomination is already under review."))
