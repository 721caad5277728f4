"""What reviewers may read of a candidate: the one place that decides it.

Never shown to reviewers, blind or not: contact details (e-mail, phone), the passport
number, and sensitive documents (passport, health). In a blind cycle the cycle's blind
fields are left out as well, everywhere a reviewer could read them: pages, fragments,
page titles, document names, Content-Disposition, zip member names, PDF metadata,
exports, mails. Every reviewer-facing piece of the portal takes the candidate's facts,
label and document names from here, so a new page cannot leak what an old one hides.

A blind candidate appears as "Candidate <reference>" (the nomination's opaque reference).
Document names are always "<requirement label>.<ext>" for reviewers, never the name of
the uploaded file (it often carries the candidate's name).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from portal.cycles.models import DocumentRequirement, ReviewerVisibility, Sensitivity
from portal.nominations.labels import FIELD_LABELS
from portal.nominations.models import Nomination
from portal.review.models import BlindField, ReviewSetup

# Facts reviewers never read.
NEVER_SHOWN = frozenset({"email", "phone", "passport_number"})
# The candidate's facts each blind field covers.
BLIND_COVERS: dict[str, frozenset[str]] = {
    BlindField.NAME: frozenset({"family_name", "given_names"}),
    BlindField.NATIVE_NAME: frozenset({"native_name"}),
    BlindField.INSTITUTION: frozenset({"institution"}),
    BlindField.DATE_OF_BIRTH: frozenset({"date_of_birth"}),
    BlindField.PHOTO: frozenset({"photo"}),
}
BLIND_LABELS: dict[str, LazyString] = {
    BlindField.NAME: _l("Name (family and given names)"),
    BlindField.NATIVE_NAME: _l("Name in native script"),
    BlindField.INSTITUTION: _l("Nominating institution"),
    BlindField.PHOTO: _l("Photo"),
    BlindField.DATE_OF_BIRTH: _l("Date of birth"),
}
# The requirement code of the candidate's photo (hidden when PHOTO is blind).
PHOTO_CODE = "photo"

# What blind review covers, said plainly on the settings page.
BLIND_EXPLAINED: tuple[LazyString, ...] = (
    _l("Hidden facts are left out of every page, file name, download, zip, export and "
       "e-mail reviewers get; the candidate appears as \"Candidate\" and the nomination's "
       "reference."),
    _l("Reviewers get PDF files without their title, author and other metadata."),
    _l("Documents carry names: mark each requirement as seen by reviewers always, only "
       "when the review is not blind, or never; ask institutions for anonymised versions "
       "(a CV without name, photo or institution) as requirements of their own."),
    _l("Contact details, passport data and sensitive documents are never shown to "
       "reviewers, blind or not."),
)


def hidden_facts(setup: ReviewSetup | None) -> frozenset[str]:
    """The candidate facts (and "institution", "photo") reviewers of this cycle never read."""
    hidden = set(NEVER_SHOWN)
    for field in (setup.blind_fields if setup else []) or []:
        hidden |= BLIND_COVERS.get(field, frozenset())
    return frozenset(hidden)


def is_blind(setup: ReviewSetup | None) -> bool:
    return bool(setup and setup.blind_fields)


def candidate_label(nomination: Nomination, setup: ReviewSetup | None) -> str:
    """How the candidate is named to reviewers."""
    hidden = hidden_facts(setup)
    if {"family_name", "given_names"} <= hidden:
        return str(_l("Candidate %(reference)s", reference=nomination.reference))
    return nomination.candidate_name or str(
        _l("Candidate %(reference)s", reference=nomination.reference))


@dataclass(frozen=True)
class Fact:
    field: str
    label: LazyString
    value: object


# The facts of the reviewer's workspace, in order (the institution comes from the row).
REVIEWER_FACTS = ("family_name", "given_names", "native_name", "date_of_birth", "sex",
                  "nationality", "position", "department", "specialty_id",
                  "experience_years", "english_level", "english_evidence",
                  "prior_visit_japan", "prior_participation", "prior_participation_year",
                  "preferred_field", "preferred_hospital", "motivation")


def reviewer_facts(nomination: Nomination, setup: ReviewSetup | None) -> list[Fact]:
    """The candidate's facts a reviewer of this cycle may read (raw values: the page
    formats them through the nominations' labels)."""
    hidden = hidden_facts(setup)
    return [Fact(f, FIELD_LABELS[f], getattr(nomination, f)) for f in REVIEWER_FACTS
            if f not in hidden]


def shows_institution(setup: ReviewSetup | None) -> bool:
    return "institution" not in hidden_facts(setup)


def requirement_visible(requirement: DocumentRequirement, setup: ReviewSetup | None) -> bool:
    """Do reviewers of this cycle see files of this requirement?"""
    if requirement.sensitivity == Sensitivity.SENSITIVE:
        return False
    blind = is_blind(setup)
    if requirement.code == PHOTO_CODE and "photo" in hidden_facts(setup):
        return False
    if requirement.anonymised:
        return blind  # the anonymised copy matters only when the originals are hidden
    visibility = requirement.reviewer_visibility
    if visibility == ReviewerVisibility.NEVER:
        return False
    return not (visibility == ReviewerVisibility.UNLESS_BLIND and blind)


_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def document_name(requirement: DocumentRequirement, content_type: str) -> str:
    """The file name reviewers see: the requirement's label and the stored type's
    extension, never the uploaded name."""
    label = " ".join(requirement.label.replace("/", " ").replace("\\", " ").split())
    return (label or requirement.code or "document") + _EXTENSIONS.get(content_type, "")
