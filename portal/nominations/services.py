"""Nomination rules that are not state changes: drafts, candidate facts, checklists."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.audit.services import record
from portal.cycles.models import Cycle, CycleStatus
from portal.db import utcnow
from portal.errors import Refused
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations import checklist as checklists
from portal.nominations import confirmations, duplicates, history
from portal.nominations.labels import FIELD_LABELS
from portal.nominations.models import (
    EDITABLE_STATES,
    Nomination,
    NominationDocument,
    NominationState,
    ReturnNote,
)


class NominationError(Refused):
    """A refused change of a draft; its message is shown to the user (translated)."""


def open_cycles(now: datetime | None = None) -> list[Cycle]:
    """Published cycles whose window is open now (usually one)."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Cycle).where(Cycle.status == CycleStatus.PUBLISHED, Cycle.opens_at <= now,
                            Cycle.closes_at > now).order_by(Cycle.closes_at)))


def new_reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone
    return "N-" + "".join(secrets.choice(alphabet) for _ in range(10))


def create_draft(cycle: Cycle | None, institution: Institution, actor: User | None,
                 ) -> Nomination:
    """A new draft of `institution` in `cycle`, which must be open for nominations."""
    if cycle is None or not cycle.is_open():
        raise NominationError(_l("Nominations cannot be started for this cycle now."))
    nomination = Nomination(
        reference=new_reference(), cycle_id=cycle.id, institution_id=institution.id,
        country=institution.country, state=NominationState.DRAFT,
        created_by_id=actor.id if actor is not None else None, duplicate_flags=[],
    )
    db.session.add(nomination)
    db.session.flush()
    history.add(nomination, actor, "created", from_state=None, to_state=NominationState.DRAFT)
    record("nomination.created", actor=actor, object_type="nomination",
           object_id=nomination.id, details={"cycle": cycle.name})
    return nomination


NULLABLE = frozenset({"date_of_birth", "specialty_id", "experience_years",
                      "prior_participation_year"})
BOOLEAN = frozenset({"prior_visit_japan", "prior_participation"})


def _clean(name: str, value: object) -> object:
    if value is None and name not in NULLABLE:
        return False if name in BOOLEAN else ""
    if isinstance(value, str):
        value = " ".join(value.split()) if name != "motivation" else value.strip()
        if name == "passport_number":
            value = duplicates.norm_passport(value)
        elif name == "email":
            value = value.lower()
        elif name == "nationality":
            value = value.upper()
    return value


def update_fields(nomination: Nomination, values: dict[str, Any], actor: User | None,
                  ) -> list[str]:
    """Save the given facts of a draft (only known fields); return the changed ones.

    A change to a fact the head or the candidate confirmed voids that confirmation
    (portal.nominations.confirmations.void_changed)."""
    if not nomination.editable:
        raise NominationError(_l("This nomination can no longer be changed."))
    changed = []
    before: dict[str, Any] = {}
    for name, value in values.items():
        if name not in FIELD_LABELS:
            continue
        value = _clean(name, value)
        if getattr(nomination, name) != value:
            before[name] = getattr(nomination, name)
            setattr(nomination, name, value)
            changed.append(name)
    if changed:
        if duplicates.IDENTITY_FIELDS & set(changed):
            duplicates.refresh(nomination)
        confirmations.void_changed(nomination, changed, before, actor)
        refresh_completeness(nomination)
        record("nomination.edited", actor=actor, object_type="nomination",
               object_id=nomination.id, details={"fields": changed})
    return changed


def documents_of(nomination_ids: Iterable[int]) -> dict[int, list[NominationDocument]]:
    ids = list(nomination_ids)
    out: dict[int, list[NominationDocument]] = {i: [] for i in ids}
    if not ids:
        return out
    for doc in db.session.scalars(
        select(NominationDocument).where(NominationDocument.nomination_id.in_(ids))
        .options(selectinload(NominationDocument.blob))
    ):
        out[doc.nomination_id].append(doc)
    return out


def notes_of(nomination_ids: Iterable[int]) -> dict[int, list[ReturnNote]]:
    ids = list(nomination_ids)
    out: dict[int, list[ReturnNote]] = {i: [] for i in ids}
    if ids:
        for note in db.session.scalars(
            select(ReturnNote).where(ReturnNote.nomination_id.in_(ids),
                                     ReturnNote.resolved_at.is_(None)).order_by(ReturnNote.id)
        ):
            out[note.nomination_id].append(note)
    return out


def load_checklist(nomination: Nomination, cycle: Cycle | None = None) -> checklists.Checklist:
    """The checklist of one nomination (two queries; the cycle's requirements are loaded
    with the cycle)."""
    cycle = cycle or db.session.get(Cycle, nomination.cycle_id)
    assert cycle is not None  # a foreign key
    docs = documents_of([nomination.id])[nomination.id]
    notes = notes_of([nomination.id])[nomination.id]
    return checklists.build(nomination, cycle, docs, notes)


def checklists_for(nominations: list[Nomination]) -> dict[int, checklists.Checklist]:
    """Checklists of many nominations in a constant number of queries."""
    ids = [n.id for n in nominations]
    cycles = {c.id: c for c in db.session.scalars(
        select(Cycle).where(Cycle.id.in_({n.cycle_id for n in nominations})))}
    docs, notes = documents_of(ids), notes_of(ids)
    return {n.id: checklists.build(n, cycles[n.cycle_id], docs[n.id], notes[n.id])
            for n in nominations}


def refresh_completeness(nomination: Nomination) -> checklists.Checklist:
    """Recompute and store `is_complete` (the staff list filters on it)."""
    db.session.flush()
    result = load_checklist(nomination)
    nomination.is_complete = result.complete
    return result


# -- what nominations keep of a cycle (registered with portal.cycles.hooks) ---------------

def nominations_per_cycle() -> dict[int, int]:
    rows = db.session.execute(
        select(Nomination.cycle_id, func.count(Nomination.id)).group_by(Nomination.cycle_id))
    return {cycle_id: n for cycle_id, n in rows.tuples()}


def specialty_chosen(specialty_id: int) -> bool:
    return db.session.scalar(select(Nomination.id).where(
        Nomination.specialty_id == specialty_id).limit(1)) is not None


def requirement_has_files(requirement_id: int) -> bool:
    return db.session.scalar(select(NominationDocument.id).where(
        NominationDocument.requirement_id == requirement_id).limit(1)) is not None


def refresh_cycle(cycle: Cycle) -> None:
    """Keep the stored completeness of editable nominations right after a rule changed."""
    drafts = list(db.session.scalars(select(Nomination).where(
        Nomination.cycle_id == cycle.id, Nomination.state.in_(EDITABLE_STATES))))
    by_id = {n.id: n for n in drafts}
    for nomination_id, result in checklists_for(drafts).items():
        by_id[nomination_id].is_complete = result.complete
