"""Staff intake: the filtered nominations list and the dossier of one nomination.

Every query starts from the nominations policy (`nominations_visible_to`,
`documents_visible_to`), wrapped as a subquery so this module never has to know which
joins the policy needs; both databases flatten such a subquery into the outer query.
Services take plain values (no request objects) and never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import AliasedClass

from portal.cycles.models import Cycle, DocumentRequirement, Specialty
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.models import (
    Nomination,
    NominationDocument,
    NominationState,
    ReturnNote,
)
from portal.nominations.policy import documents_visible_to, nominations_visible_to
from portal.storage.models import Blob

PER_PAGE = 50
PER_PAGE_CHOICES = (25, 50, 100)
STATES = [str(s) for s in NominationState]
# States from which staff may send a nomination back or start its review (the workflow
# module has the last word; these only decide which buttons are shown).
RETURNABLE = frozenset({NominationState.SUBMITTED, NominationState.RESUBMITTED,
                        NominationState.UNDER_REVIEW})
REVIEWABLE = frozenset({NominationState.SUBMITTED, NominationState.RESUBMITTED})


def visible_nominations(user: Any) -> AliasedClass[Nomination]:
    return aliased(Nomination, nominations_visible_to(user).subquery("visible_nominations"))


def visible_documents(user: Any) -> AliasedClass[NominationDocument]:
    return aliased(NominationDocument, documents_visible_to(user).subquery("visible_documents"))


# -- filters ----------------------------------------------------------------------------

def _sort_columns(nom: Any) -> dict[str, tuple[Any, ...]]:
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


SORT_KEYS = ("name", "institution", "country", "state", "submitted_at", "updated")
DEFAULT_SORT = "-updated"


def _int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None


@dataclass(frozen=True)
class Filters:
    """What the staff list shows, parsed from query-string values (unknown values are
    ignored rather than refused: a stale bookmark still opens)."""

    cycle: int | None = None
    country: str = ""
    institution: int | None = None
    specialty: str = ""  # a specialty code: the same code across cycles
    state: str = ""
    complete: str = ""  # "yes", "no" or "" for both
    q: str = ""
    sort: str = DEFAULT_SORT
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        sort = args.get("sort", "") or DEFAULT_SORT
        if sort.lstrip("-") not in SORT_KEYS:
            sort = DEFAULT_SORT
        per_page = _int(args.get("per_page")) or PER_PAGE
        country = (args.get("country") or "").strip().upper()
        return cls(
            cycle=_int(args.get("cycle")),
            country=country if len(country) == 2 and country.isalpha() else "",
            institution=_int(args.get("institution")),
            specialty=(args.get("specialty") or "").strip()[:40],
            state=args.get("state", "") if args.get("state") in STATES else "",
            complete=args.get("complete", "") if args.get("complete") in ("yes", "no") else "",
            q=" ".join((args.get("q") or "").split())[:100],
            sort=sort,
            page=min(_int(args.get("page")) or 1, 100_000),
            per_page=per_page if per_page in PER_PAGE_CHOICES else PER_PAGE,
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string values for a link to this list with `changes` (defaults left out
        so URLs stay short)."""
        values = replace(self, **changes)
        defaults = Filters()
        return {f.name: getattr(values, f.name) for f in fields(self)
                if getattr(values, f.name) != getattr(defaults, f.name)}

    def sort_link(self, key: str) -> dict[str, Any]:
        """Args that sort by key: ascending first, descending when already ascending."""
        return self.args(sort=f"-{key}" if self.sort == key else key, page=1)

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def active(self) -> bool:
        return bool(self.args(sort=DEFAULT_SORT, page=1, per_page=PER_PAGE))


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def apply_filters(stmt: Select, nom: Any, f: Filters, *, with_state: bool = True) -> Select:
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


def filtered_ids(user: Any, f: Filters) -> Select:
    """SELECT of the ids of every nomination the list shows (all pages)."""
    nom = visible_nominations(user)
    return apply_filters(select(nom.id), nom, f)


# -- the list ---------------------------------------------------------------------------

@dataclass
class ListPage:
    rows: list[Any]
    total: int
    state_counts: dict[str, int]
    all_states: int  # every state, with the other filters applied
    page: int
    per_page: int
    has_more: bool

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.rows)


def list_nominations(user: Any, f: Filters) -> ListPage:
    """One page of the list in two queries (rows with institution, specialty and cycle
    names joined in, and counts per state), whatever the number of rows."""
    nom = visible_nominations(user)
    # The direction applies to the chosen column; ties stay in their natural order
    # (names A-Z), which is what people expect when they reverse a column.
    first, *rest = _sort_columns(nom)[f.sort_key]
    order = [first.desc().nulls_last() if f.descending else first.asc().nulls_last(),
             *rest]
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
    stmt = apply_filters(stmt, nom, f).order_by(*order)
    stmt = stmt.limit(f.per_page + 1).offset((f.page - 1) * f.per_page)
    rows = db.session.execute(stmt).all()

    counts_stmt = apply_filters(
        select(nom.state, func.count()).select_from(nom), nom, f, with_state=False
    ).group_by(nom.state)
    counts = {state: int(n) for state, n in db.session.execute(counts_stmt).all()}
    all_states = sum(counts.values())
    total = counts.get(f.state, 0) if f.state else all_states
    return ListPage(rows=list(rows[: f.per_page]), total=total, state_counts=counts,
                    all_states=all_states, page=f.page, per_page=f.per_page,
                    has_more=len(rows) > f.per_page)


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
class Dossier:
    nomination: Nomination
    institution: Institution
    cycle: Cycle
    specialty: Specialty | None
    items: list[DocumentItem]
    field_notes: list[ReturnNote]

    @property
    def document_count(self) -> int:
        return sum(1 for item in self.items if item.previewable)


def load_dossier(user: Any, nomination: Nomination) -> Dossier:
    """Everything the staff page of one nomination shows, in a fixed number of queries
    (the cycle brings its requirements and specialties by selectin)."""
    institution = db.session.get(Institution, nomination.institution_id)
    cycle = db.session.get(Cycle, nomination.cycle_id)
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
    return Dossier(nomination, institution, cycle, specialty, items,
                   [n for n in notes if n.requirement_id is None])
