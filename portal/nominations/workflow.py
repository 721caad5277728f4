"""State changes of a nomination: submit, withdraw, return for changes, under review.

Services: they never commit (the route or job does: one request, one transaction). Each
change writes a NominationEvent (the history the institution and staff see) and an audit
record. Refusals raise WorkflowError with a message meant for the user.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select

from portal.audit.services import record
from portal.cycles.models import Cycle, CycleStatus
from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.models import (
    COUNTED_STATES,
    EDITABLE_STATES,
    Nomination,
    NominationEvent,
    NominationState,
    ReturnNote,
)


class WorkflowError(Exception):
    """A refused change; `message` is shown to the user as it is (translated)."""

    def __init__(self, message: Any, *, code: str = "refused") -> None:
        # Kept lazy: translated where it is shown (services also run outside requests).
        super().__init__(message)
        self.message = message
        # "already_done" lets routes treat a double click as success, not as an error.
        self.code = code


def _event(nomination: Nomination, actor: Any, kind: str, *, from_state: str | None,
           to_state: str | None, comment: str = "", actor_label: str | None = None,
           ) -> NominationEvent:
    event = NominationEvent(
        nomination_id=nomination.id, actor_id=getattr(actor, "id", None),
        actor_label=actor_label or getattr(actor, "email", "") or "",
        from_state=from_state, to_state=to_state, kind=kind, comment=comment or "",
    )
    db.session.add(event)
    return event


def log_event(nomination: Nomination, actor: Any, kind: str, comment: str = "",
              actor_label: str | None = None) -> NominationEvent:
    """An event without a state change (endorsed, document uploaded...)."""
    return _event(nomination, actor, kind, from_state=nomination.state,
                  to_state=nomination.state, comment=comment, actor_label=actor_label)


def _change(nomination: Nomination, actor: Any, kind: str, to_state: str,
            comment: str = "") -> NominationEvent:
    from_state = nomination.state
    nomination.state = to_state
    event = _event(nomination, actor, kind, from_state=from_state, to_state=to_state,
                   comment=comment)
    record(f"nomination.{kind}", actor=actor, object_type="nomination",
           object_id=nomination.id,
           details={"from": from_state, "to": to_state, "reference": nomination.reference})
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
    from portal.nominations import confirmations, services

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
        reasons.append(_l("The head of your institution has not endorsed this nomination "
                          "yet."))
    if not status.consented:
        reasons.append(_l("The candidate has not given consent yet."))
    return reasons


def window_allows(nomination: Nomination, cycle: Cycle) -> bool:
    """First submissions need the window open. A nomination staff returned for changes
    may be resubmitted later too (staff often return during the review phase), as long
    as the cycle has not been closed."""
    if nomination.state == NominationState.RETURNED:
        return cycle.status == CycleStatus.PUBLISHED
    return cycle.is_open()


def deadline_message(cycle: Cycle) -> Any:
    """Lazy: the date is formatted in the viewer's language when the message is shown."""
    from portal.i18n import tokyo_dt

    name, opens, closes = cycle.name, cycle.opens_at, cycle.closes_at
    if cycle.status == CycleStatus.PUBLISHED and opens > utcnow():
        return LazyString(lambda: gettext(
            "Nominations for %(cycle)s open on %(date)s (Japan time).",
            cycle=name, date=tokyo_dt(opens)))
    return LazyString(lambda: gettext(
        "The deadline for %(cycle)s passed on %(date)s (Japan time). Nominations can no "
        "longer be submitted; please contact the program staff.",
        cycle=name, date=tokyo_dt(closes)))


def submit(nomination: Nomination, actor: Any) -> None:
    """Submit (or resubmit after a return); checks everything under the limit lock."""
    cycle = db.session.get(Cycle, nomination.cycle_id)
    _lock(nomination, cycle)
    if nomination.state not in EDITABLE_STATES:
        raise WorkflowError(_l("This nomination has already been submitted."),
                            code="already_done")
    if not window_allows(nomination, cycle):
        raise WorkflowError(deadline_message(cycle), code="deadline")
    reasons = blocking_reasons(nomination, cycle)
    if reasons:
        error = WorkflowError(LazyString(lambda: " ".join(str(r) for r in reasons)),
                              code="incomplete")
        error.reasons = reasons
        raise error
    resubmitting = nomination.state == NominationState.RETURNED
    if not resubmitting:  # a returned nomination holds its slot already
        check_limits(nomination, cycle)
    now = utcnow()
    nomination.submitted_at = now
    nomination.is_complete = True
    if resubmitting:
        db.session.execute(
            ReturnNote.__table__.update()
            .where(ReturnNote.nomination_id == nomination.id, ReturnNote.resolved_at.is_(None))
            .values(resolved_at=now))
        _change(nomination, actor, "resubmitted", NominationState.RESUBMITTED)
    else:
        _change(nomination, actor, "submitted", NominationState.SUBMITTED)
    from portal.nominations.services import send_receipt

    send_receipt(nomination, cycle, actor)


WITHDRAWABLE = frozenset(set(NominationState) - {
    NominationState.WITHDRAWN, NominationState.REJECTED})


def withdraw(nomination: Nomination, actor: Any, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_l("Please give a reason for withdrawing the nomination."))
    db.session.refresh(nomination)
    if nomination.state not in WITHDRAWABLE:
        raise WorkflowError(_l("This nomination cannot be withdrawn any more."),
                            code="already_done")
    nomination.withdrawn_reason = reason
    _change(nomination, actor, "withdrawn", NominationState.WITHDRAWN, comment=reason)


RETURNABLE = frozenset({
    NominationState.SUBMITTED, NominationState.RESUBMITTED, NominationState.UNDER_REVIEW})


def return_for_changes(
    nomination: Nomination, actor: Any, comment: str,
    notes: list[tuple[str | None, int | None, str]],
) -> NominationEvent:
    """Staff send a nomination back with a general comment and notes per field/document."""
    from portal.nominations.services import FIELD_LABELS, notify_returned

    db.session.refresh(nomination)
    if nomination.state not in RETURNABLE:
        raise WorkflowError(_l("Only submitted nominations can be returned for changes."))
    clean = [(f or None, r, (c or "").strip()) for f, r, c in notes if (c or "").strip()]
    if not (comment or "").strip() and not clean:
        raise WorkflowError(_l("Say what the institution should change."))
    for field, _req, _c in clean:
        if field is not None and field not in FIELD_LABELS:
            raise WorkflowError(_l("Unknown field: %(field)s", field=field))
    event = _change(nomination, actor, "returned", NominationState.RETURNED,
                    comment=(comment or "").strip())
    db.session.flush()
    for field, requirement_id, text in clean:
        db.session.add(ReturnNote(nomination_id=nomination.id, event_id=event.id,
                                  field=field, requirement_id=requirement_id, comment=text))
    nomination.is_complete = False
    notify_returned(nomination, (comment or "").strip(), len(clean))
    return event


def mark_under_review(nomination: Nomination, actor: Any) -> None:
    db.session.refresh(nomination)
    if nomination.state == NominationState.UNDER_REVIEW:
        raise WorkflowError(_l("This nomination is already under review."),
                            code="already_done")
    if nomination.state not in (NominationState.SUBMITTED, NominationState.RESUBMITTED):
        raise WorkflowError(_l("Only submitted nominations can be put under review."))
    _change(nomination, actor, "under_review", NominationState.UNDER_REVIEW)


def history(nomination: Nomination) -> list[NominationEvent]:
    return list(db.session.scalars(
        select(NominationEvent).where(NominationEvent.nomination_id == nomination.id)
        .order_by(NominationEvent.at, NominationEvent.id)))
