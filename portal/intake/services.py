"""Staff intake: the filtered nominations list and the dossier of one nomination.

Every query starts from the nominations policy (`nominations_visible_to`,
`documents_visible_to`), wrapped as a subquery so this module never has to know which
joins the policy needs; both databases flatten such a subquery into the outer query.
Services take plain values (no request objects) and never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.orm import aliased

from portal.accounts.models import User
from portal.cycles.models import Cycle, DocumentRequirement, Specialty
from portal.extensions import db
from portal.institutions.models import Institution
from portal.listing import ListFilters, Page, choice, page_of, parse_int
from portal.nominations.models import (
    Confirmation,
    Nomination,
    NominationDocument,
    NominationState,
    ReturnNote,
)
from portal.nominations.policy import documents_visible_to, nominations_visible_to
from portal.storage.models import Blob

STATES = [str(s) for s in NominationState]


def visible_nominations(user: User) -> type[Nomination]:
    return aliased(Nomination, nominations_visible_to(user).subquery("visible_nominations"))


def visible_documents(user: User) -> type[NominationDocument]:
    return aliased(NominationDocument, documents_visible_to(user).subquery("visible_documents"))


# -- filters ----------------------------------------------------------------------------

def _sort_columns(nom: type[Nomination]) -> dict[str, tuple[Any, ...]]:
    """Sort keys and their columns; the id last makes the order total, so pages never
    repeat or skip a row when values tie."""
    return {
        "name": (nom.family_name, nom.given_names, nom.id),
        "institution": (Institution.name, nom.family_name, nom.id),
        "country": (nom.country, Institution.name, nom.family_name, nom.id),
        "state": (nom.state, nom.family_name, nom.id),
        "submitted_at": (nom.submitted_at, nom.id),
        "updated": (nom.updated_at, nom.id),
    }


@dataclass(frozen=True)
class Filters(ListFilters):
    """What the staff list shows, parsed from query-string values (unknown values are
    ignored rather than refused: a stale bookmark still opens)."""

    SORT_KEYS: ClassVar[tuple[str, ...]] = (
        "name", "institution", "country", "state", "submitted_at", "updated")
    DEFAULT_SORT: ClassVar[str] = "-updated"

    cycle: int | None = None
    country: str = ""
    institution: int | None = None
    specialty: str = ""  # a specialty code: the same code across cycles
    state: str = ""
    complete: str = ""  # "yes", "no" or "" for both
    q: str = ""

    @classmethod
    def parse(cls, args: Mapping[str, Any]) -> dict[str, Any]:
        country = str(args.get("country") or "").strip().upper()
        return {
            "cycle": parse_int(args.get("cycle")),
            "country": country if len(country) == 2 and country.isalpha() else "",
            "institution": parse_int(args.get("institution")),
            "specialty": str(args.get("specialty") or "").strip()[:40],
            "state": choice(args.get("state"), STATES),
            "complete": choice(args.get("complete"), ("yes", "no")),
            "q": " ".join(str(args.get("q") or "").split())[:100],
        }


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def apply_filters(stmt: Select[Any], nom: type[Nomination], f: Filters, *,
                  with_state: bool = True) -> Select[Any]:
    """Add the list's WHERE clauses (no joins needed: names of specialties are matched
    through a subquery on their code)."""
    if f.cycle:
        stmt = stmt.where(nom.cycle_id == f.cycle)
    if f.country:
        stmt = stmt.where(nom.country == f.country)
    if f.institution:
        stmt = stmt.where(nom.institution_id == f.institution)
    if f.specialty:
        stmt = stmt.where(nom.specialty_id.in_(
            select(Specialty.id).where(Specialty.code == f.specialty)))
    if with_state and f.state:
        stmt = stmt.where(nom.state == f.state)
    if f.complete:
        stmt = stmt.where(nom.is_complete.is_(f.complete == "yes"))
    if f.q:
        # Case-insensitive, the cheap way on each database: SQLite's LIKE ignores case
        # already (its lower() knows only ASCII anyway); on PostgreSQL lower() LIKE is
        # about three times faster than ILIKE over 10,000 rows (measured).
        sqlite = db.session.get_bind().dialect.name == "sqlite"
        columns = (nom.family_name, nom.given_names, nom.native_name, nom.reference)
        for word in f.q.split():
            pattern = _like(word)
            stmt = stmt.where(or_(*(
                c.like(pattern, escape="\\") if sqlite
                else func.lower(c).like(pattern.lower(), escape="\\")
                for c in columns)))
    return stmt


def filtered_ids(user: User, f: Filters) -> Select[tuple[int]]:
    """SELECT of the ids of every nomination the list shows (all pages)."""
    nom = visible_nominations(user)
    return apply_filters(select(nom.id), nom, f)


# -- the list ---------------------------------------------------------------------------

@dataclass
class Listing:
    """One page of the list and the counts per state beside it."""

    page: Page[Row[Any]]
    state_counts: dict[str, int]
    all_states: int  # every state, with the other filters applied


def list_nominations(user: User, f: Filters) -> Listing:
    """One page of the list in two queries (rows with institution, specialty and cycle
    names joined in, and counts per state), whatever the number of rows."""
    nom = visible_nominations(user)
    # The direction applies to the chosen column; ties stay in their natural order
    # (names A-Z), which is what people expect when they reverse a column.
    sort = f.sort or f.DEFAULT_SORT
    first, *rest = _sort_columns(nom)[sort.lstrip("-")]
    descending = sort.startswith("-")
    order = [first.desc().nulls_last() if descending else first.asc().nulls_last(), *rest]
    stmt = (
        select(
            nom.id, nom.reference, nom.family_name, nom.given_names, nom.native_name,
            nom.country, nom.state, nom.is_complete, nom.submitted_at, nom.updated_at,
            nom.duplicate_flags,
            Institution.name.label("institution_name"),
            Specialty.name.label("specialty_name"),
            Cycle.name.label("cycle_name"),
        )
        .join(Institution, Institution.id == nom.institution_id)
        .join(Cycle, Cycle.id == nom.cycle_id)
        .outerjoin(Specialty, Specialty.id == nom.specialty_id)
    )
    # The total comes from the counts per state: no COUNT of its own.
    page = page_of(apply_filters(stmt, nom, f).order_by(*order), f.page, f.size,
                   count=False, scalars=False)
    counts_stmt = apply_filters(
        select(nom.state, func.count()).select_from(nom), nom, f, with_state=False
    ).group_by(nom.state)
    counts = {state: int(n) for state, n in db.session.execute(counts_stmt).tuples()}
    all_states = sum(counts.values())
    page.total = counts.get(f.state, 0) if f.state else all_states
    return Listing(page=page, state_counts=counts, all_states=all_states)


@dataclass
class FilterOptions:
    cycles: list[Any]
    institutions: list[Any]
    countries: list[str]
    specialties: list[Any]


def filter_options() -> FilterOptions:
    """Choices of the filter form: four small queries. Specialties are offered by code
    across cycles, so the choice stays valid whichever cycle is picked."""
    cycles = db.session.execute(
        select(Cycle.id, Cycle.name).order_by(Cycle.opens_at.desc(), Cycle.id.desc())
    ).all()
    institutions = db.session.execute(
        select(Institution.id, Institution.name, Institution.country)
        .order_by(Institution.name, Institution.id)
    ).all()
    countries = list(db.session.scalars(
        select(Institution.country).distinct().order_by(Institution.country)))
    specialties = db.session.execute(
        select(Specialty.code, func.min(Specialty.name).label("name"))
        .group_by(Specialty.code).order_by(func.min(Specialty.name))
    ).all()
    return FilterOptions(list(cycles), list(institutions), countries, list(specialties))


# -- one dossier ------------------------------------------------------------------------

@dataclass
class DocumentItem:
    requirement: DocumentRequirement | None
    document: NominationDocument | None = None
    blob: Blob | None = None
    notes: list[ReturnNote] = field(default_factory=list)

    @property
    def previewable(self) -> bool:
        return self.blob is not None and self.blob.purged_at is None \
            and self.document is not None and self.document.state != "purged"


@dataclass
class ConfirmationItem:
    """One endorsement or consent request, with who asked (their e-mail)."""

    confirmation: Confirmation
    requested_by: str | None


@dataclass
class Dossier:
    nomination: Nomination
    institution: Institution
    cycle: Cycle
    specialty: Specialty | None
    items: list[DocumentItem]
    field_notes: list[ReturnNote]
    confirmations: list[ConfirmationItem] = field(default_factory=list)

    @property
    def document_count(self) -> int:
        return sum(1 for item in self.items if item.previewable)


def load_dossier(user: User, nomination: Nomination) -> Dossier:
    """Everything the staff page of one nomination shows, in a fixed number of queries
    (the cycle brings its requirements and specialties by selectin)."""
    institution = db.session.get(Institution, nomination.institution_id)
    cycle = db.session.get(Cycle, nomination.cycle_id)
    assert institution is not None and cycle is not None  # foreign keys
    specialty = next((s for s in cycle.specialties if s.id == nomination.specialty_id), None)
    doc = visible_documents(user)
    found = db.session.execute(
        select(doc, Blob).join(Blob, Blob.id == doc.blob_id)
        .where(doc.nomination_id == nomination.id)
    ).all()
    notes = db.session.scalars(
        select(ReturnNote).where(ReturnNote.nomination_id == nomination.id,
                                 ReturnNote.resolved_at.is_(None))
        .order_by(ReturnNote.id)
    ).all()
    by_requirement = {d.requirement_id: (d, b) for d, b in found}
    items = []
    for requirement in cycle.requirements:
        document, blob = by_requirement.pop(requirement.id, (None, None))
        items.append(DocumentItem(requirement, document, blob,
                                  [n for n in notes if n.requirement_id == requirement.id]))
    # A file whose requirement left the cycle still belongs to the dossier.
    items.extend(DocumentItem(None, d, b) for d, b in by_requirement.values())
    asked = db.session.execute(
        select(Confirmation, User.email).outerjoin(User, User.id == Confirmation.requested_by_id)
        .where(Confirmation.nomination_id == nomination.id).order_by(Confirmation.id)
    ).tuples().all()
    return Dossier(nomination, institution, cycle, specialty, items,
                   [n for n in notes if n.requirement_id is None],
                   [ConfirmationItem(c, email) for c, email in asked])
