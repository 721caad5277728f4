"""Test data of cycles, document requirements, nominations and documents: the one set of
factory functions the workspace, intake, cycles and access tests use.

Rows are made directly through the models (fast, and independent of the pages under
test); files are real PDFs and JPEGs made by the demo's builders
(portal.nominations.demo) and written through the app's storage (local or S3), so the
bytes a test gets back are the bytes it stored.
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from functools import cache
from typing import Any

from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import DecodedStreamObject, NameObject
from sqlalchemy import select

from portal.cycles.models import (
    Cycle,
    CycleStatus,
    DocumentRequirement,
    Sensitivity,
    Specialty,
    ValidityRule,
)
from portal.db import new_key, utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.demo import make_jpeg, make_pdf
from portal.nominations.models import (
    Confirmation,
    DocumentState,
    Nomination,
    NominationDocument,
    NominationEvent,
    NominationState,
)
from portal.nominations.services import new_reference
from portal.storage import get_storage
from portal.storage.models import Blob

_seq = itertools.count(1)


# -- files --------------------------------------------------------------------------------

@cache
def pdf_bytes(pages: int = 1) -> bytes:
    """A plain, valid PDF (the demo's builder), the same bytes all through a test run."""
    return make_pdf("Test document", ["A document of the test suite."], pages=pages)


@cache
def jpeg_bytes() -> bytes:
    return make_jpeg("Test photo", (64, 48))


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
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    stream = DecodedStreamObject()
    stream.set_data(os.urandom(size))
    page[NameObject("/PieceInfo")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def stored_keys() -> list[str]:
    return [key for key, _ in get_storage().iter_keys()]


# -- cycles -------------------------------------------------------------------------------

def requirement_specs() -> list[dict[str, Any]]:
    """The default documents of a test cycle, in checklist order."""
    return [
        {"code": "application", "label": "Application form", "accepted_types": ["pdf"]},
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


SPECIALTIES = [("cardiology", "Cardiology"), ("radiology", "Radiology")]


def make_cycle(name: str | None = None, *, opens_in: timedelta = timedelta(days=-10),
               closes_in: timedelta = timedelta(days=20), status: str = CycleStatus.PUBLISHED,
               requirements: Sequence[dict[str, Any]] | None = None,
               training_ends_on: date | None = None, **kw: Any) -> Cycle:
    """A cycle (published and open by default) with two specialties and the documents of
    `requirement_specs()`; committed."""
    if name is None:
        # A copied cycle takes the next year's name (FY2344 -> FY2345): skip names in use.
        name = f"FY{2100 + next(_seq)}"
        while db.session.scalar(select(Cycle.id).where(Cycle.name == name)) is not None:
            name = f"FY{2100 + next(_seq)}"
    now = utcnow()
    ends = training_ends_on or (now + closes_in).date() + timedelta(days=210)
    values: dict[str, Any] = {
        "name": name, "status": status, "opens_at": now + opens_in,
        "closes_at": now + closes_in, "window_timezone": "Asia/Tokyo",
        "training_starts_on": ends - timedelta(days=90), "training_ends_on": ends,
        "english_evidence_required": True, "endorsement_required": True,
        "prior_participation": "lower_priority", "consent_text": "I consent to transfer.",
        "reminders_sent": {},
    }
    values.update(kw)
    cycle = Cycle(**values)
    cycle.specialties = [Specialty(code=code, name=label, position=i)
                         for i, (code, label) in enumerate(SPECIALTIES)]
    cycle.requirements = [DocumentRequirement(position=i, **spec) for i, spec in
                          enumerate(requirements or requirement_specs())]
    db.session.add(cycle)
    db.session.commit()
    return cycle


def requirement(cycle: Cycle, code: str) -> DocumentRequirement:
    return next(r for r in cycle.requirements if r.code == code)


# -- nominations and documents ------------------------------------------------------------

FACTS: dict[str, Any] = {
    "given_names": "Mei Ling", "native_name": "陈美玲", "date_of_birth": date(1990, 5, 17),
    "sex": "female", "nationality": "MY", "position": "Medical officer",
    "experience_years": 4, "english_level": "advanced", "english_evidence": "IELTS 7.0",
}


def store_blob(data: bytes, content_type: str, original_name: str,
               user_id: int | None = None) -> Blob:
    """A Blob row for `data` written through the app's storage, as it is (no checks)."""
    key = new_key()
    size, sha256 = get_storage().put(io.BytesIO(data), key, content_type=content_type)
    blob = Blob(key=key, size=size, sha256=sha256, content_type=content_type,
                original_name=original_name, created_by_id=user_id)
    db.session.add(blob)
    db.session.flush()
    return blob


def add_document(nomination: Nomination, document: DocumentRequirement | str, *,
                 data: bytes | None = None, content_type: str | None = None,
                 name: str | None = None, user_id: int | None = None) -> NominationDocument:
    """The nomination's file for a requirement (or its code), with valid dates where the
    requirement has a validity rule; a PDF if the requirement takes PDFs, else a JPEG."""
    cycle = db.session.get(Cycle, nomination.cycle_id)
    assert cycle is not None
    req = requirement(cycle, document) if isinstance(document, str) else document
    if content_type is None:
        content_type = "application/pdf" if "pdf" in req.accepted_types else "image/jpeg"
    if data is None:
        data = pdf_bytes() if content_type == "application/pdf" else jpeg_bytes()
    ext = ".pdf" if content_type == "application/pdf" else ".jpg"
    blob = store_blob(data, content_type, name or f"scan of {req.code}{ext}", user_id)
    doc = NominationDocument(nomination_id=nomination.id, requirement_id=req.id,
                             blob_id=blob.id, state=DocumentState.UPLOADED,
                             uploaded_by_id=user_id)
    if req.validity_rule == ValidityRule.VALID_MONTHS_AFTER_TRAINING:
        doc.expires_on = cycle.training_ends_on + timedelta(days=400)
    elif req.validity_rule == ValidityRule.ISSUED_DAYS_BEFORE_DEADLINE:
        doc.issued_on = date.today() - timedelta(days=5)
    db.session.add(doc)
    db.session.flush()
    return doc


def make_nomination(cycle: Cycle, institution: Institution, *, user: Any = None,
                    state: str = NominationState.DRAFT, complete: bool = True,
                    documents: Iterable[str] | None = None, confirmed: bool = True,
                    family_name: str | None = None, specialty: str | None = None,
                    commit: bool = True, **kw: Any) -> Nomination:
    """A nomination in `state` (set directly, as if it had got there).

    complete: every required candidate fact, and a file for every required document
    (unless `documents` names the requirement codes to give files to); confirmed: the
    head endorsed and the candidate consented. Other keywords are Nomination columns.
    """
    n = next(_seq)
    values: dict[str, Any] = {
        "reference": new_reference(), "cycle_id": cycle.id, "institution_id": institution.id,
        "country": institution.country, "state": state, "duplicate_flags": [],
        "family_name": family_name or f"Tan{n}", "email": f"candidate{n}@example.org",
        "created_by_id": getattr(user, "id", None),
    }
    if complete:
        values.update(FACTS, passport_number=f"A{n:07d}")
        specialty = specialty or cycle.specialties[0].code
    if specialty:
        values["specialty_id"] = next(s.id for s in cycle.specialties if s.code == specialty)
    if state != NominationState.DRAFT:
        values["submitted_at"] = utcnow()
    values["is_complete"] = complete
    values.update(kw)
    nomination = Nomination(**values)
    db.session.add(nomination)
    db.session.flush()
    db.session.add(NominationEvent(nomination_id=nomination.id, kind="created",
                                   from_state=None, to_state=state))
    if documents is None:
        documents = [r.code for r in cycle.requirements if r.required] if complete else []
    for code in documents:
        add_document(nomination, code, user_id=getattr(user, "id", None))
    if confirmed:
        for kind, email in (("endorsement", institution.head_email),
                            ("consent", nomination.email)):
            db.session.add(Confirmation(nomination_id=nomination.id, kind=kind, email=email,
                                        decision="granted", decided_at=utcnow(),
                                        decided_ip="127.0.0.1"))
    if commit:
        db.session.commit()
    return nomination


def confirm_again(nomination: Nomination) -> None:
    """The head and the candidate confirm again (after a change of confirmed facts
    voided their earlier answers): a new granted row of each kind."""
    institution = db.session.get(Institution, nomination.institution_id)
    assert institution is not None
    for kind, email in (("endorsement", institution.head_email),
                        ("consent", nomination.email)):
        db.session.add(Confirmation(nomination_id=nomination.id, kind=kind, email=email,
                                    decision="granted", decided_at=utcnow(),
                                    decided_ip="127.0.0.1"))
    db.session.flush()


MANY_STATES = [NominationState.SUBMITTED, NominationState.DRAFT,
               NominationState.UNDER_REVIEW, NominationState.RETURNED]


def make_nominations(cycle: Cycle, institutions: list[Institution], count: int,
                     **kw: Any) -> list[Nomination]:
    """`count` nominations without files or confirmations, spread over the institutions
    and over MANY_STATES in turn, committed once."""
    made = [
        make_nomination(cycle, institutions[i % len(institutions)],
                        state=MANY_STATES[i % len(MANY_STATES)], documents=(),
                        confirmed=False, commit=False, **kw)
        for i in range(count)
    ]
    db.session.commit()
    return made
