"""What people read for the nomination's states, moves, history entries and fields.

A leaf of the area (it imports only the lifecycle table), so forms, services, workflow,
mails and the staff intake share one set of labels without importing one another. The
labels of states and moves are checked against the lifecycle table at import: a state or
a move added to the table without a label fails at start, not on a page.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from portal.nominations.lifecycle import NOMINATION, NominationState

S = NominationState

STATE_LABELS: dict[str, LazyString] = {
    S.DRAFT: _l("Draft"),
    S.SUBMITTED: _l("Submitted"),
    S.RETURNED: _l("Returned for changes"),
    S.RESUBMITTED: _l("Resubmitted"),
    S.UNDER_REVIEW: _l("Under review"),
    S.ACCEPTED: _l("Accepted"),
    S.RESERVE: _l("Reserve list"),
    S.REJECTED: _l("Not selected"),
    S.WITHDRAWN: _l("Withdrawn"),
}

# The history's entries of state changes are named by their move (NominationEvent.kind).
MOVE_LABELS: dict[str, LazyString] = {
    "submit": _l("Submitted"),
    "resubmit": _l("Resubmitted"),
    "return": _l("Returned for changes"),
    "start_review": _l("Review started"),
    "accept": _l("Accepted"),
    "reserve": _l("Put on the reserve list"),
    "reject": _l("Not selected"),
    "withdraw": _l("Withdrawn"),
}

# History entries that change no state.
EVENT_LABELS: dict[str, LazyString] = {
    "created": _l("Draft created"),
    "document_uploaded": _l("Document uploaded"),
    "document_replaced": _l("Document replaced"),
    "document_removed": _l("Document removed"),
    "endorsement_requested": _l("Endorsement requested"),
    "endorsement_granted": _l("Endorsed by the head of the institution"),
    "endorsement_declined": _l("Endorsement declined"),
    "consent_requested": _l("Consent requested"),
    "consent_granted": _l("Consent given by the candidate"),
    "consent_correction_requested": _l("The candidate asked for a correction"),
    # A confirmed fact changed (the comment names which): it must be asked for again.
    "endorsement_voided": _l("Endorsement no longer valid: confirmed details changed"),
    "consent_voided": _l("Consent no longer valid: confirmed details changed"),
}
KIND_LABELS: dict[str, LazyString] = {**EVENT_LABELS, **MOVE_LABELS}

_missing = (set(NOMINATION.states) - set(STATE_LABELS)) \
    | (set(NOMINATION.move_names()) - set(MOVE_LABELS))
if _missing:  # pragma: no cover - a table change without its labels
    raise RuntimeError(f"nomination states or moves without a label: {sorted(_missing)}")

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
SECTION_TITLES: dict[str, LazyString] = {
    "identity": _l("Identity as in the passport"),
    "contact": _l("Contact"),
    "position": _l("Position, specialty and experience"),
    "english": _l("English"),
    "prior": _l("Prior visits to Japan and prior participation"),
    "preferences": _l("Preferred training"),
}
FIELD_LABELS: dict[str, LazyString] = {
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


def field_label(name: str) -> str:
    """A field's label in the current language (the template filter `field_label`)."""
    label = FIELD_LABELS.get(name)
    return str(label) if label is not None else name


ENGLISH_LEVELS: list[tuple[str, LazyString]] = [
    ("basic", _l("Basic")), ("intermediate", _l("Intermediate")),
    ("advanced", _l("Advanced")), ("fluent", _l("Fluent / native")),
]
SEXES: list[tuple[str, LazyString]] = [("female", _l("Female")), ("male", _l("Male")),
                                       ("other", _l("Other / not stated"))]
