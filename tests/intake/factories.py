"""Test data of the staff intake: cycles, nominations and documents with real files.

Rows are made directly through the models (fast, and independent of the workspace's
pages); files are real small PDFs and JPEGs written through the configured storage.
"""

from __future__ import annotations

import io
import itertools
from datetime import date, timedelta
from typing import Any

from portal.cycles.models import (
    Cycle,
    CycleStatus,
    DocumentRequirement,
    Sensitivity,
    Specialty,
)
from portal.db import new_key, utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.models import (
    DocumentState,
    Nomination,
    NominationDocument,
    NominationEvent,
    NominationState,
)
from portal.storage import get_storage
from portal.storage.models import Blob
from tests.nominations.factories import jpeg_bytes, pdf_bytes

_seq = itertools.count(1)

# (code, label, sensitivity, accepted types)
REQUIREMENTS = [
    ("application", "Application form", Sensitivity.NORMAL, ["pdf"]),
    ("cv", "Curriculum vitae", Sensitivity.NORMAL, ["pdf"]),
    ("passport", "Passport copy", Sensitivity.SENSITIVE, ["pdf", "jpeg"]),
    ("photo", "Photo", Sensitivity.NORMAL, ["jpeg", "png"]),
]
SPECIALTIES = [("cardiology", "Cardiology"), ("radiology", "Radiology")]


# The same real files as the workspace's tests (re-exported for intake tests).
__all__ = ["IntakeFactory", "jpeg_bytes", "pdf_bytes"]


def store_blob(data: bytes, content_type: str, original_name: str) -> Blob:
    """A Blob row for data written through the app's storage (local or S3)."""
    key = new_key()
    size, sha256 = get_storage().put(io.BytesIO(data), key, content_type=content_type)
    blob = Blob(key=key, size=size, sha256=sha256, content_type=content_type,
                original_name=original_name)
    db.session.add(blob)
    db.session.flush()
    return blob


class IntakeFactory:
    def cycle(self, name: str | None = None, *, training_ends_on: date | None = None,
              retention_days: int = 365, **kw: Any) -> Cycle:
        n = next(_seq)
        now = utcnow()
        ends = training_ends_on or (now.date() + timedelta(days=200))
        cycle = Cycle(
            name=name or f"FY{2000 + n}", status=CycleStatus.PUBLISHED,
            opens_at=now - timedelta(days=30), closes_at=now + timedelta(days=30),
            training_starts_on=ends - timedelta(days=90), training_ends_on=ends,
            retention_days=retention_days, **kw,
        )
        cycle.specialties = [Specialty(code=c, name=label, position=i)
                             for i, (c, label) in enumerate(SPECIALTIES)]
        cycle.requirements = [
            DocumentRequirement(code=c, label=label, sensitivity=s, accepted_types=types,
                                position=i)
            for i, (c, label, s, types) in enumerate(REQUIREMENTS)
        ]
        db.session.add(cycle)
        db.session.commit()
        return cycle

    def nomination(self, cycle: Cycle, institution: Institution, *,
                   state: str = NominationState.SUBMITTED, family_name: str | None = None,
                   given_names: str = "Amina", specialty: str | None = "cardiology",
                   documents: tuple[str, ...] = (), commit: bool = True,
                   **kw: Any) -> Nomination:
        n = next(_seq)
        specialty_id = next((s.id for s in cycle.specialties if s.code == specialty), None)
        submitted = state not in (NominationState.DRAFT,)
        values: dict[str, Any] = {
            "reference": f"N-T{n:08d}", "cycle_id": cycle.id,
            "institution_id": institution.id, "country": institution.country,
            "state": state, "family_name": family_name or f"Family{n}",
            "given_names": given_names, "specialty_id": specialty_id,
            "date_of_birth": date(1990, 1, 1), "email": f"candidate{n}@example.org",
            "is_complete": submitted, "duplicate_flags": [],
            "submitted_at": utcnow() if submitted else None,
        }
        values.update(kw)
        nomination = Nomination(**values)
        db.session.add(nomination)
        db.session.flush()
        db.session.add(NominationEvent(nomination_id=nomination.id, kind="created",
                                       from_state=None, to_state=state))
        for code in documents:
            self.document(nomination, cycle, code)
        if commit:
            db.session.commit()
        return nomination

    def document(self, nomination: Nomination, cycle: Cycle, code: str, *,
                 data: bytes | None = None, content_type: str | None = None,
                 original_name: str | None = None) -> NominationDocument:
        requirement = next(r for r in cycle.requirements if r.code == code)
        if content_type is None:
            content_type = "image/jpeg" if code == "photo" else "application/pdf"
        if data is None:
            data = jpeg_bytes() if content_type == "image/jpeg" else pdf_bytes()
        ext = ".jpg" if content_type == "image/jpeg" else ".pdf"
        blob = store_blob(data, content_type, original_name or f"scan of {code}{ext}")
        document = NominationDocument(nomination_id=nomination.id,
                                      requirement_id=requirement.id, blob_id=blob.id,
                                      state=DocumentState.UPLOADED)
        db.session.add(document)
        db.session.flush()
        return document

    def many(self, cycle: Cycle, institutions: list[Institution], count: int,
             **kw: Any) -> list[Nomination]:
        """count nominations without files, spread over institutions, committed once."""
        states = [NominationState.SUBMITTED, NominationState.DRAFT,
                  NominationState.UNDER_REVIEW, NominationState.RETURNED]
        made = [
            self.nomination(cycle, institutions[i % len(institutions)],
                            state=states[i % len(states)], commit=False, **kw)
            for i in range(count)
        ]
        db.session.commit()
        return made
