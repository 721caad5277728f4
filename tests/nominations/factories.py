"""Test data of the nomination workspace: open cycles with requirements, nominations at
any stage, real files (made in code) stored through the app's storage."""

from __future__ import annotations

import io
import itertools
from datetime import date, timedelta
from functools import cache
from typing import Any

from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import NameObject
from sqlalchemy import select

from portal.cycles.models import (
    Cycle,
    CycleStatus,
    DocumentRequirement,
    Sensitivity,
    Specialty,
    ValidityRule,
)
from portal.db import utcnow
from portal.extensions import db
from portal.nominations.models import (
    Confirmation,
    DocumentState,
    Nomination,
    NominationDocument,
    NominationEvent,
    NominationState,
)
from portal.nominations.services import new_reference
from portal.storage import store_upload

_seq = itertools.count(1)


@cache
def pdf_bytes(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@cache
def js_pdf() -> bytes:
    """A PDF that runs JavaScript when opened (a booby trap)."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_open_action(JavaScript("this.exportDataObject({cName: 'x', nLaunch: 2});"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def big_pdf(size: int) -> bytes:
    """A valid PDF of about `size` bytes: one page plus an unused stream of noise."""
    import os

    from pypdf.generic import DecodedStreamObject

    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    stream = DecodedStreamObject()
    stream.set_data(os.urandom(size))
    page[NameObject("/PieceInfo")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@cache
def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def requirement_specs() -> list[dict[str, Any]]:
    return [
        {"code": "cv", "label": "Curriculum vitae", "accepted_types": ["pdf"]},
        {"code": "passport", "label": "Passport copy", "accepted_types": ["pdf", "jpeg"],
         "validity_rule": ValidityRule.VALID_MONTHS_AFTER_TRAINING, "validity_param": 6,
         "sensitivity": Sensitivity.SENSITIVE},
        {"code": "health", "label": "Health certificate", "accepted_types": ["pdf"],
         "validity_rule": ValidityRule.ISSUED_DAYS_BEFORE_DEADLINE, "validity_param": 90,
         "sensitivity": Sensitivity.SENSITIVE},
        {"code": "photo", "label": "Photo", "accepted_types": ["jpeg", "png"],
         "required": False, "max_size_mb": 1},
    ]


def make_cycle(*, opens_in: timedelta = timedelta(days=-10),
               closes_in: timedelta = timedelta(days=20), status: str = CycleStatus.PUBLISHED,
               requirements: list[dict[str, Any]] | None = None, **kw: Any) -> Cycle:
    # A copied cycle takes the next year's name (FY2344 -> FY2345): skip names in use.
    name = f"FY{2100 + next(_seq)}"
    while db.session.scalar(select(Cycle.id).where(Cycle.name == name)) is not None:
        name = f"FY{2100 + next(_seq)}"
    now = utcnow()
    values: dict[str, Any] = {
        "name": name, "status": status, "opens_at": now + opens_in,
        "closes_at": now + closes_in, "window_timezone": "Asia/Tokyo",
        "training_starts_on": (now + closes_in).date() + timedelta(days=120),
        "training_ends_on": (now + closes_in).date() + timedelta(days=210),
        "english_evidence_required": True, "endorsement_required": True,
        "prior_participation": "lower_priority", "consent_text": "I consent to transfer.",
        "reminders_sent": {},
    }
    values.update(kw)
    cycle = Cycle(**values)
    cycle.specialties = [Specialty(code="cardiology", name="Cardiology", position=0),
                         Specialty(code="radiology", name="Radiology", position=1)]
    cycle.requirements = [DocumentRequirement(position=i, **spec) for i, spec in
                          enumerate(requirements or requirement_specs())]
    db.session.add(cycle)
    db.session.commit()
    return cycle


FACTS = {
    "given_names": "Mei Ling", "native_name": "陈美玲", "date_of_birth": date(1990, 5, 17),
    "sex": "female", "nationality": "MY", "passport_number": "A1234567",
    "email": "mei.ling@example.org", "position": "Medical officer", "experience_years": 4,
    "english_level": "advanced", "english_evidence": "IELTS 7.0",
}


def add_document(nomination: Nomination, requirement: DocumentRequirement,
                 data: bytes | None = None, name: str | None = None,
                 user_id: int | None = None) -> NominationDocument:
    data = data or (jpeg_bytes() if "pdf" not in requirement.accepted_types else pdf_bytes())
    blob = store_upload(io.BytesIO(data), original_name=name or f"{requirement.code}.pdf",
                        allowed=set(requirement.accepted_types), max_bytes=10 * 1024 * 1024,
                        user_id=user_id)
    cycle = db.session.get(Cycle, nomination.cycle_id)
    doc = NominationDocument(nomination_id=nomination.id, requirement_id=requirement.id,
                             blob_id=blob.id, state=DocumentState.UPLOADED,
                             uploaded_by_id=user_id)
    if requirement.validity_rule == ValidityRule.VALID_MONTHS_AFTER_TRAINING:
        doc.expires_on = cycle.training_ends_on + timedelta(days=400)
    elif requirement.validity_rule == ValidityRule.ISSUED_DAYS_BEFORE_DEADLINE:
        doc.issued_on = date.today() - timedelta(days=5)
    db.session.add(doc)
    db.session.flush()
    return doc


def make_nomination(cycle: Cycle, institution: Any, *, user: Any = None,
                    state: str = NominationState.DRAFT, complete: bool = True,
                    confirmed: bool = True, family_name: str | None = None,
                    **kw: Any) -> Nomination:
    """A nomination; `complete` fills every required fact and document."""
    values: dict[str, Any] = {
        "reference": new_reference(), "cycle_id": cycle.id, "institution_id": institution.id,
        "country": institution.country, "state": state, "duplicate_flags": [],
        "family_name": family_name or f"Tan{next(_seq)}",
        "created_by_id": getattr(user, "id", None),
    }
    if complete:
        values.update(FACTS, specialty_id=cycle.specialties[0].id)
        values["passport_number"] = f"A{next(_seq):07d}"
    if state != NominationState.DRAFT:
        values["submitted_at"] = utcnow()
    values.update(kw)
    nomination = Nomination(**values)
    db.session.add(nomination)
    db.session.flush()
    db.session.add(NominationEvent(nomination_id=nomination.id, kind="created",
                                   from_state=None, to_state=state))
    if complete:
        for req in cycle.requirements:
            if req.required:
                add_document(nomination, req, user_id=getattr(user, "id", None))
    if confirmed:
        for kind, email in (("endorsement", institution.head_email),
                            ("consent", nomination.email or "x@example.org")):
            db.session.add(Confirmation(nomination_id=nomination.id, kind=kind, email=email,
                                        decision="granted", decided_at=utcnow(),
                                        decided_ip="127.0.0.1"))
    nomination.is_complete = complete
    db.session.commit()
    return nomination


def stored_keys() -> list[str]:
    from portal.storage import get_storage

    return [key for key, _ in get_storage().iter_keys()]
