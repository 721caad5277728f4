"""Nomination rules that are not state changes: drafts, facts, checklists, mails."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Role, User, UserRole
from portal.audit.services import record
from portal.cycles.models import Cycle, CycleStatus
from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations import checklist as checklists
from portal.nominations import duplicates
from portal.nominations.models import (
    Nomination,
    NominationDocument,
    NominationState,
    ReturnNote,
)
from portal.notify.services import queue_mail

# The sections of the nomination form and the columns each one saves.
SECTIONS: dict[str, tuple[str, ...]] = {
    "identity": ("family_name", "given_names", "native_name", "date_of_birth", "sex",
                 "nationality", "passport_number"),
    "contact": ("email", "phone"),
    "position": ("position", "department", "specialty_id", "experience_years"),
    "english": ("english_level", "english_evidence"),
    "prior": ("prior_visit_japan", "prior_participation", "prior_participation_year"),
    "preferences": ("preferred_field", "preferred_hospital", "motivation"),
}
SECTION_TITLES: dict[str, Any] = {
    "identity": _l("Identity as in the passport"),
    "contact": _l("Contact"),
    "position": _l("Position, specialty and experience"),
    "english": _l("English"),
    "prior": _l("Prior visits to Japan and prior participation"),
    "preferences": _l("Preferred training"),
}
FIELD_LABELS: dict[str, Any] = {
    "family_name": _l("Name as in passport (family name, or the only name)"),
    "given_names": _l("Given names as in passport"),
    "native_name": _l("Name in native script"),
    "date_of_birth": _l("Date of birth"),
    "sex": _l("Sex"),
    "nationality": _l("Nationality"),
    "passport_number": _l("Passport number"),
    "email": _l("Candidate's e-mail"),
    "phone": _l("Phone"),
    "position": _l("Position"),
    "department": _l("Department"),
    "specialty_id": _l("Specialty"),
    "experience_years": _l("Years of experience in the specialty"),
    "english_level": _l("English level"),
    "english_evidence": _l("English evidence (test and score)"),
    "prior_visit_japan": _l("Has visited Japan before"),
    "prior_participation": _l("Took part in this program before"),
    "prior_participation_year": _l("Year of prior participation"),
    "preferred_field": _l("Preferred training field"),
    "preferred_hospital": _l("Preferred training hospital"),
    "motivation": _l("Motivation"),
}
ENGLISH_LEVELS: list[tuple[str, Any]] = [
    ("basic", _l("Basic")), ("intermediate", _l("Intermediate")),
    ("advanced", _l("Advanced")), ("fluent", _l("Fluent / native")),
]
SEXES: list[tuple[str, Any]] = [("female", _l("Female")), ("male", _l("Male")),
                                ("other", _l("Other / not stated"))]

STATE_LABELS: dict[str, Any] = {
    NominationState.DRAFT: _l("Draft"),
    NominationState.SUBMITTED: _l("Submitted"),
    NominationState.RETURNED: _l("Returned for changes"),
    NominationState.RESUBMITTED: _l("Resubmitted"),
    NominationState.UNDER_REVIEW: _l("Under review"),
    NominationState.ACCEPTED: _l("Accepted"),
    NominationState.RESERVE: _l("Reserve list"),
    NominationState.REJECTED: _l("Not selected"),
    NominationState.WITHDRAWN: _l("Withdrawn"),
}


class NominationError(Exception):
    def __init__(self, message: Any) -> None:
        super().__init__(message)
        self.message = message


def open_cycles(now: Any = None) -> list[Cycle]:
    """Published cycles whose window is open now (usually one)."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Cycle).where(Cycle.status == CycleStatus.PUBLISHED, Cycle.opens_at <= now,
                            Cycle.closes_at > now).order_by(Cycle.closes_at)))


def new_reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone
    return "N-" + "".join(secrets.choice(alphabet) for _ in range(10))


def create_draft(cycle: Cycle, institution: Institution, actor: Any) -> Nomination:
    if not cycle.is_open():
        from portal.nominations.workflow import deadline_message

        raise NominationError(deadline_message(cycle))
    nomination = Nomination(
        reference=new_reference(), cycle_id=cycle.id, institution_id=institution.id,
        country=institution.country, state=NominationState.DRAFT,
        created_by_id=getattr(actor, "id", None), duplicate_flags=[],
    )
    db.session.add(nomination)
    db.session.flush()
    from portal.nominations.workflow import _event

    _event(nomination, actor, "created", from_state=None, to_state=NominationState.DRAFT)
    record("nomination.created", actor=actor, object_type="nomination",
           object_id=nomination.id, details={"cycle": cycle.name})
    return nomination


NULLABLE = frozenset({"date_of_birth", "specialty_id", "experience_years",
                      "prior_participation_year"})
BOOLEAN = frozenset({"prior_visit_japan", "prior_participation"})


def _clean(name: str, value: Any) -> Any:
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


def update_fields(nomination: Nomination, values: dict[str, Any], actor: Any) -> list[str]:
    """Save the given facts of a draft (only known fields); return the changed ones."""
    if not nomination.editable:
        raise NominationError(_l("This nomination can no longer be changed."))
    changed = []
    for name, value in values.items():
        if name not in FIELD_LABELS:
            continue
        value = _clean(name, value)
        if getattr(nomination, name) != value:
            setattr(nomination, name, value)
            changed.append(name)
    if changed:
        if duplicates.IDENTITY_FIELDS & set(changed):
            duplicates.refresh(nomination)
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


def nominators_of(institution_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(User.institution_id == institution_id, User.active.is_(True),
               UserRole.role == str(Role.NOMINATOR)).order_by(User.id)))


def _link(nomination: Nomination) -> str:
    from portal.accounts.services import external_url

    return external_url("nominations.show", nomination_id=nomination.id)


def send_receipt(nomination: Nomination, cycle: Cycle, actor: Any) -> None:
    """Receipt to the person who submitted: every file with its size and SHA-256, so the
    institution can prove what it sent."""
    docs = db.session.scalars(
        select(NominationDocument).where(NominationDocument.nomination_id == nomination.id)
        .options(selectinload(NominationDocument.blob),
                 selectinload(NominationDocument.requirement))
    ).all()
    docs = sorted(docs, key=lambda d: (d.requirement.position, d.requirement.id))
    email = getattr(actor, "email", None)
    if not email:
        return
    queue_mail(
        email, "nomination_receipt",
        subject=_l("Receipt: nomination %(ref)s submitted", ref=nomination.reference),
        language=getattr(actor, "language", None), nomination=nomination, cycle=cycle,
        documents=docs, name=getattr(actor, "name", ""), link=_link(nomination),
        resubmitted=nomination.state == NominationState.RESUBMITTED,
    )


def notify_returned(nomination: Nomination, comment: str, note_count: int) -> None:
    for user in nominators_of(nomination.institution_id):
        queue_mail(
            user.email, "nomination_returned",
            subject=_l("Nomination %(ref)s: changes requested", ref=nomination.reference),
            language=user.language, nomination=nomination, comment=comment,
            note_count=note_count, name=user.name, link=_link(nomination),
        )


def parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None
