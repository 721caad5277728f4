"""The history of a nomination (NominationEvent rows) that the institution and staff see.

A state change is written by the workflow under the name of its move in the lifecycle
table ("submit", "return", ...); other entries (a document uploaded, an endorsement
requested) keep the state and name what happened. A leaf of the area: services, uploads,
confirmations and the workflow all write here without importing one another.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.nominations.models import Nomination, NominationEvent


def add(nomination: Nomination, actor: User | None, kind: str, *, from_state: str | None,
        to_state: str | None, comment: str = "", actor_label: str | None = None,
        ) -> NominationEvent:
    event = NominationEvent(
        nomination_id=nomination.id, actor_id=actor.id if actor is not None else None,
        actor_label=actor_label or (actor.email if actor is not None else ""),
        from_state=from_state, to_state=to_state, kind=kind, comment=comment or "",
    )
    db.session.add(event)
    return event


def log_event(nomination: Nomination, actor: User | None, kind: str, comment: str = "",
              actor_label: str | None = None) -> NominationEvent:
    """An entry without a state change (endorsed, document uploaded...)."""
    return add(nomination, actor, kind, from_state=nomination.state,
               to_state=nomination.state, comment=comment, actor_label=actor_label)


def events_of(nomination: Nomination) -> list[NominationEvent]:
    return list(db.session.scalars(
        select(NominationEvent).where(NominationEvent.nomination_id == nomination.id)
        .order_by(NominationEvent.at, NominationEvent.id)))
