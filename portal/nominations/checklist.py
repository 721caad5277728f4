"""What a nomination still needs: one row per document requirement, missing facts,
eligibility problems and warnings. Pure functions over loaded objects (no queries),
so lists can build many checklists from a few planned queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.cycles.models import Cycle, DocumentRequirement, ValidityRule
from portal.nominations.models import (
    DocumentState,
    Nomination,
    NominationDocument,
    ReturnNote,
)

# A document within this many days of its validity limit is shown as "expiring".
EXPIRING_MARGIN_DAYS = 30

# Candidate facts a nomination must have before it can be submitted (given names are
# optional: one-name people have none; the native-script name is optional too).
REQUIRED_FIELDS: dict[str, Any] = {
    "family_name": _l("Name as in passport"),
    "date_of_birth": _l("Date of birth"),
    "sex": _l("Sex"),
    "nationality": _l("Nationality"),
    "passport_number": _l("Passport number"),
    "email": _l("Candidate's e-mail"),
    "position": _l("Position"),
    "specialty_id": _l("Specialty"),
    "experience_years": _l("Years of experience in the specialty"),
    "english_level": _l("English level"),
}


class RowState:
    MISSING = "missing"
    UPLOADED = "uploaded"
    INVALID = "invalid"
    EXPIRING = "expiring"
    PURGED = "purged"
    OPTIONAL = "optional"  # an optional requirement with no file: nothing to do


@dataclass
class Row:
    requirement: DocumentRequirement
    document: NominationDocument | None
    state: str
    problem: Any = ""
    notes: list[ReturnNote] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        if self.state in (RowState.INVALID, RowState.PURGED):
            return True
        return self.state == RowState.MISSING and self.requirement.required


@dataclass
class Checklist:
    rows: list[Row]
    missing_fields: list[tuple[str, Any]]  # (field, label)
    problems: list[Any]  # eligibility problems that block submission (lazy strings)
    warnings: list[Any]  # lower-priority rules: shown, never blocking
    field_notes: dict[str, list[ReturnNote]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every required fact and document is there and valid (eligibility aside)."""
        return not self.missing_fields and not any(r.blocking for r in self.rows)

    @property
    def ready(self) -> bool:
        return self.complete and not self.problems

    @property
    def missing_documents(self) -> list[Row]:
        return [r for r in self.rows if r.blocking]

    def summary(self) -> list[str]:
        """Short lines of what is missing, for dashboards."""
        lines = [str(label) for _f, label in self.missing_fields]
        lines += [r.requirement.label for r in self.missing_documents]
        return lines


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=d)
        except ValueError:
            continue
    raise ValueError(day)


def deadline_date(cycle: Cycle) -> date:
    return cycle.closes_at.date()


def validity(requirement: DocumentRequirement, document: NominationDocument,
             cycle: Cycle) -> tuple[str, Any]:
    """(state, reason) of a document under its requirement's validity rule; reasons are
    lazy strings, translated where they are shown."""
    rule, n = requirement.validity_rule, requirement.validity_param or 0
    if rule == ValidityRule.VALID_MONTHS_AFTER_TRAINING:
        needed = add_months(cycle.training_ends_on, n)
        if document.expires_on is None:
            return RowState.INVALID, _l("Enter the expiry date of this document.")
        if document.expires_on < needed:
            return RowState.INVALID, _l(
                "Expires on %(expiry)s; it must be valid until at least %(needed)s "
                "(%(n)d months after the training ends).",
                expiry=document.expires_on.isoformat(), needed=needed.isoformat(), n=n)
        if document.expires_on < needed + timedelta(days=EXPIRING_MARGIN_DAYS):
            return RowState.EXPIRING, _l(
                "Valid, but expires on %(expiry)s, close to the limit of %(needed)s.",
                expiry=document.expires_on.isoformat(), needed=needed.isoformat())
    elif rule == ValidityRule.ISSUED_DAYS_BEFORE_DEADLINE:
        earliest = deadline_date(cycle) - timedelta(days=n)
        if document.issued_on is None:
            return RowState.INVALID, _l("Enter the date this document was issued.")
        if document.issued_on > date.today() + timedelta(days=1):
            return RowState.INVALID, _l("The issue date is in the future.")
        if document.issued_on < earliest:
            return RowState.INVALID, _l(
                "Issued on %(issued)s; it must be issued on or after %(earliest)s "
                "(at most %(n)d days before the deadline).",
                issued=document.issued_on.isoformat(), earliest=earliest.isoformat(), n=n)
    return RowState.UPLOADED, ""


def _row(requirement: DocumentRequirement, document: NominationDocument | None,
         cycle: Cycle, notes: list[ReturnNote]) -> Row:
    if document is None:
        state = RowState.MISSING if requirement.required else RowState.OPTIONAL
        return Row(requirement, None, state, notes=notes)
    if document.state == DocumentState.PURGED:
        return Row(requirement, document, RowState.PURGED,
                   _l("This file was deleted after the retention period."), notes)
    if document.state == DocumentState.INVALID and document.problem:
        return Row(requirement, document, RowState.INVALID, document.problem, notes)
    state, reason = validity(requirement, document, cycle)
    return Row(requirement, document, state, reason, notes)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def eligibility(nomination: Nomination, cycle: Cycle) -> tuple[list[Any], list[Any]]:
    """(problems, warnings) from the cycle's eligibility rules."""
    problems: list[Any] = []
    warnings: list[Any] = []
    years = nomination.experience_years
    if years is not None:
        if cycle.min_experience_years is not None and years < cycle.min_experience_years:
            problems.append(_l("At least %(n)d years of experience in the specialty are "
                                   "required.", n=cycle.min_experience_years))
        if cycle.max_experience_years is not None and years > cycle.max_experience_years:
            problems.append(_l("At most %(n)d years of experience in the specialty are "
                                   "allowed.", n=cycle.max_experience_years))
    if nomination.date_of_birth is not None:
        age = age_on(nomination.date_of_birth, cycle.training_starts_on)
        if cycle.min_age is not None and age < cycle.min_age:
            problems.append(_l("The candidate must be at least %(n)d years old when the "
                                   "training starts.", n=cycle.min_age))
        if cycle.max_age is not None and age > cycle.max_age:
            problems.append(_l("The candidate must be at most %(n)d years old when the "
                                   "training starts.", n=cycle.max_age))
    if cycle.english_evidence_required and not (nomination.english_evidence or "").strip():
        problems.append(_l("Evidence of English proficiency is required (e.g. a test "
                               "name and score)."))
    # What the institution declared, or an earlier accepted nomination of its own. Matches
    # outside it (another institution's nomination, the alumni records) are for staff
    # only: the nominator's checklist must not change when one exists.
    prior = nomination.prior_participation or any(
        f.get("kind") == "prior_participant"
        and f.get("institution_id") == nomination.institution_id
        for f in nomination.duplicate_flags or []
    )
    if prior:
        if cycle.prior_participation == "not_allowed":
            problems.append(_l("Former participants of the program cannot be nominated "
                                   "in this cycle."))
        elif cycle.prior_participation == "lower_priority":
            warnings.append(_l("The candidate took part in the program before; former "
                                   "participants have lower priority in this cycle."))
    return problems, warnings


def build(nomination: Nomination, cycle: Cycle, documents: list[NominationDocument],
          notes: list[ReturnNote] | None = None) -> Checklist:
    by_req = {d.requirement_id: d for d in documents}
    open_notes = [n for n in notes or [] if n.resolved_at is None]
    rows = [
        _row(req, by_req.get(req.id), cycle,
             [n for n in open_notes if n.requirement_id == req.id])
        for req in cycle.requirements
    ]
    missing = [
        (name, label) for name, label in REQUIRED_FIELDS.items()
        if getattr(nomination, name) in (None, "")
    ]
    problems, warnings = eligibility(nomination, cycle)
    field_notes: dict[str, list[ReturnNote]] = {}
    for note in open_notes:
        if note.field:
            field_notes.setdefault(note.field, []).append(note)
    return Checklist(rows, missing, problems, warnings, field_notes)
