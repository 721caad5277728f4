"""Alumni records: lookup, lists, manual edits, merge.

No request objects here and no commits: the request (or command, or job) commits once.
(Records from a cycle's accepted nominations: portal.intake.alumni_records, since the
alumni area sits below nominations.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from portal.accounts.models import User
from portal.alumni.models import AlumniInvitation, Alumnus
from portal.audit.services import record
from portal.config import LANGUAGES
from portal.db import utcnow
from portal.errors import Conflict, Refused
from portal.extensions import db
from portal.listing import ListFilters, Page, page_of, parse_int

# Called as hook(from_id, into_id) when record `from_id` is merged into `into_id`, inside
# the merge's transaction; other areas (events) append functions that move their links.
MERGE_HOOKS: list[Callable[[int, int], None]] = []

FIRST_YEAR = 1983  # the program's first cycle

# What staff may set on a record (forms and the importer use the same names).
RECORD_FIELDS = (
    "family_name", "given_names", "native_name", "date_of_birth", "email", "cycle_year",
    "specialty", "country", "institution_then", "institution_now", "position", "city",
    "timezone", "language", "contact_by_email", "directory_visible", "directory_show_email",
    "notes",
)
# What the alumnus keeps up to date. An import never overwrites these on a claimed record
# (an old spreadsheet must not undo what the person wrote); it only fills blanks.
PROFILE_FIELDS = frozenset({
    "email", "institution_now", "position", "city", "timezone", "language",
    "contact_by_email", "directory_visible", "directory_show_email",
})
# What the alumnus may ask to change on the profile, and staff confirm: who may join an
# event depends on them (portal.events.policy.eligible), so the record keeps what staff
# know until they confirm.
CONFIRMED_FIELDS = ("country", "specialty")
# Fields counted by the profile-completeness gauge on the alumnus' dashboard.
COMPLETENESS_FIELDS = {
    "position": _l("Current position"),
    "institution_now": _l("Current institution"),
    "specialty": _l("Specialty"),
    "city": _l("City"),
    "country": _l("Country"),
    "timezone": _l("Time zone"),
}


class AlumniError(Refused):
    """A rule about alumni records said no (422); `message` is shown to the user."""


class ChangesDecided(Conflict):
    """Someone decided (or the alumnus withdrew) the requested change first (409)."""

    default_message = _l("There is no change to decide on this record any more.")


def resolve(alumnus: Alumnus | None) -> Alumnus | None:
    """Follow merged_into to the surviving record (guarded against cycles)."""
    seen: set[int] = set()
    while alumnus is not None and alumnus.merged_into_id and alumnus.id not in seen:
        seen.add(alumnus.id)
        alumnus = db.session.get(Alumnus, alumnus.merged_into_id)
    return alumnus


def alumnus_for_user(user: User | None) -> Alumnus | None:
    """The record linked to an account (the surviving one if it was merged), or None."""
    if not isinstance(user, User) or not user.id:
        return None
    found = db.session.scalars(select(Alumnus).where(Alumnus.user_id == user.id)).first()
    return resolve(found)


def specialty_code(value: str | None) -> str:
    """"Internal Medicine" -> "internal_medicine": the form cycles use for specialties."""
    value = " ".join((value or "").casefold().split())
    return re.sub(r"[\s\-/]+", "_", value).strip("_")[:60]


# --- lists ------------------------------------------------------------------------------

FIRST_YEAR_PARSED = 1900  # a cycle year typed into a URL below this is a typo


@dataclass(frozen=True)
class Filters(ListFilters):
    """The staff list of alumni records (and the base of the directory's filters)."""

    PER_PAGE = 50
    PER_PAGE_CHOICES = (50,)

    country: str = ""
    specialty: str = ""
    year: int | None = None
    has_account: str = ""  # "yes", "no" or ""
    q: str = ""
    merged: bool = False  # staff: also show records merged into others
    changes: bool = False  # staff: only records with a change to confirm

    @classmethod
    def parse(cls, args: Mapping[str, object]) -> dict[str, object]:
        has_account = str(args.get("has_account") or "")
        return {
            "country": str(args.get("country") or "").strip().upper()[:2],
            "specialty": specialty_code(str(args.get("specialty") or "")),
            "year": parse_int(args.get("year"), low=FIRST_YEAR_PARSED, high=2100),
            "has_account": has_account if has_account in ("yes", "no") else "",
            "q": str(args.get("q") or "").strip()[:100],
            "merged": str(args.get("merged") or "") in ("1", "on", "yes"),
            "changes": str(args.get("changes") or "") in ("1", "on", "yes"),
        }

    def as_args(self) -> dict[str, Any]:
        """The filters (not the page) as link arguments: the invitation pages keep them."""
        return self.args(page=1)


@dataclass(frozen=True)
class DirectoryFilters(Filters):
    """The alumni directory: the same filters, 30 people a page; never by account or
    merged records (what staff see only)."""

    PER_PAGE = 30
    PER_PAGE_CHOICES = (30,)

    @classmethod
    def parse(cls, args: Mapping[str, object]) -> dict[str, object]:
        return {**super().parse(args), "has_account": "", "merged": False, "changes": False}


def apply_filters(query: Select[tuple[Alumnus]], f: Filters, *, with_email: bool = True
                  ) -> Select[tuple[Alumnus]]:
    if f.country:
        query = query.where(Alumnus.country == f.country)
    if f.specialty:
        query = query.where(Alumnus.specialty == f.specialty)
    if f.year:
        query = query.where(Alumnus.cycle_year == f.year)
    if f.has_account == "yes":
        query = query.where(Alumnus.user_id.is_not(None))
    elif f.has_account == "no":
        query = query.where(Alumnus.user_id.is_(None))
    if not f.merged:
        query = query.where(Alumnus.merged_into_id.is_(None))
    if f.changes:
        query = query.where(Alumnus.change_requested_at.is_not(None))
    if f.q:
        like = f"%{f.q.casefold()}%"
        terms = [Alumnus.name_key.like(like), func.lower(Alumnus.given_names).like(like),
                 func.lower(Alumnus.native_name).like(like)]
        if with_email:  # the directory must not reveal hidden addresses through search
            terms.append(Alumnus.email.like(like))
        query = query.where(or_(*terms))
    return query


def staff_query(f: Filters) -> Select[tuple[Alumnus]]:
    return apply_filters(select(Alumnus), f).order_by(
        Alumnus.name_key, Alumnus.given_names, Alumnus.id)


def staff_page(f: Filters) -> tuple[Page[Alumnus], dict[int, User]]:
    """A page of the staff list, and the accounts linked to its records (one query)."""
    rows = page_of(staff_query(f), f.page, f.size)
    return rows, accounts_of(rows.items)


def count(query: Select[tuple[Alumnus]]) -> int:
    return db.session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery())) or 0


def accounts_of(rows: list[Alumnus]) -> dict[int, User]:
    ids = [a.user_id for a in rows if a.user_id]
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def account_of(alumnus: Alumnus) -> User | None:
    return db.session.get(User, alumnus.user_id) if alumnus.user_id else None


def invitations_of(alumnus: Alumnus) -> list[AlumniInvitation]:
    return list(db.session.scalars(select(AlumniInvitation).where(
        AlumniInvitation.alumnus_id == alumnus.id).order_by(AlumniInvitation.id.desc())))


def filter_values(*, directory: bool = False) -> dict[str, list[Any]]:
    """Distinct countries, specialties and years present, for the filter menus (of the
    directory: only among people listed there)."""
    live: ColumnElement[bool] = Alumnus.merged_into_id.is_(None)
    if directory:
        live = live & Alumnus.directory_visible.is_(True)

    def distinct(column: InstrumentedAttribute[Any]) -> list[Any]:
        return [v for v in db.session.scalars(
            select(column).where(live).distinct().order_by(column)) if v]

    return {"countries": distinct(Alumnus.country), "specialties": distinct(Alumnus.specialty),
            "years": distinct(Alumnus.cycle_year)}


# --- manual edits ------------------------------------------------------------------------

def _clean(field: str, value: object) -> object:
    if field == "specialty":
        return specialty_code(str(value or ""))
    if field == "country":
        return str(value or "").strip().upper()[:2]
    if field == "timezone":
        return value or None
    if isinstance(value, str):
        return " ".join(value.split()) if field != "notes" else value.strip()
    return value


def _assign(alumnus: Alumnus, data: Mapping[str, Any], fields: tuple[str, ...] | frozenset[str]
            ) -> dict[str, list[Any]]:
    """Set the given fields; returns {field: [old, new]} for what changed (for the audit)."""
    changes: dict[str, list[Any]] = {}
    for field in fields:
        if field not in data:
            continue
        new = _clean(field, data[field])
        old = getattr(alumnus, field)
        if new != old:
            setattr(alumnus, field, new)
            if getattr(alumnus, field) != old:  # validators may normalize back to old
                changes[field] = [_plain(old), _plain(getattr(alumnus, field))]
    return changes


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def create(data: Mapping[str, Any], actor: User | None) -> Alumnus:
    alumnus = Alumnus(family_name="", source="manual")
    _assign(alumnus, data, RECORD_FIELDS)
    db.session.add(alumnus)
    db.session.flush()
    record("alumni.created", actor=actor, object_type="alumnus", object_id=alumnus.id)
    return alumnus


def update_record(alumnus: Alumnus, data: Mapping[str, Any], actor: User | None
                  ) -> dict[str, list[Any]]:
    changes = _assign(alumnus, data, RECORD_FIELDS)
    if changes:
        record("alumni.updated", actor=actor, object_type="alumnus", object_id=alumnus.id,
               details={"fields": sorted(changes)})
    return changes


def update_profile(alumnus: Alumnus, data: Mapping[str, Any], user: User
                   ) -> dict[str, list[Any]]:
    """The alumnus edits their own profile (fields they own, nothing else); a new country
    or specialty becomes a request staff confirm (`requested_changes`)."""
    own = PROFILE_FIELDS - {"email"}  # the address is the account's; changed by staff
    changes = _assign(alumnus, data, frozenset(own))
    asked = _ask_for_changes(alumnus, data)
    if not alumnus.directory_visible:
        alumnus.directory_show_email = False  # hidden people show nothing
    # The account follows the profile, so pages and mails use the same zone and language.
    if alumnus.timezone:
        user.timezone = alumnus.timezone
    if alumnus.language in LANGUAGES:
        user.language = alumnus.language
    if changes:
        record("alumni.profile_updated", actor=user, object_type="alumnus",
               object_id=alumnus.id, details={"fields": sorted(changes)})
    if asked:
        record("alumni.change_requested", actor=user, object_type="alumnus",
               object_id=alumnus.id, details=asked)
    return changes


def _ask_for_changes(alumnus: Alumnus, data: Mapping[str, Any]) -> dict[str, str | None]:
    """Store what the profile form asks for country and specialty (a value equal to the
    record's withdraws the request); returns what changed in the requests."""
    changed: dict[str, str | None] = {}
    for field in CONFIRMED_FIELDS:
        if field not in data:
            continue
        value = str(_clean(field, data[field]) or "")
        wanted = value if value and value != getattr(alumnus, field) else None
        column = f"requested_{field}"
        if getattr(alumnus, column) != wanted:
            setattr(alumnus, column, wanted)
            changed[field] = wanted
    if changed:
        alumnus.change_requested_at = utcnow() if alumnus.requested_changes else None
    return changed


def decide_changes(alumnus: Alumnus, *, confirm: bool, actor: User) -> dict[str, str]:
    """Staff confirm (the record takes the values) or decline what the alumnus asked for;
    returns the requests decided."""
    asked = alumnus.requested_changes
    if not asked:
        raise ChangesDecided
    if confirm:
        for field, value in asked.items():
            setattr(alumnus, field, value)
    alumnus.requested_country = alumnus.requested_specialty = None
    alumnus.change_requested_at = None
    record("alumni.change_confirmed" if confirm else "alumni.change_declined", actor=actor,
           object_type="alumnus", object_id=alumnus.id, details=asked)
    return asked


def change_requests_count() -> int:
    """Records whose alumnus asked for a change staff have not decided."""
    return db.session.scalar(select(func.count(Alumnus.id)).where(
        Alumnus.change_requested_at.is_not(None), Alumnus.merged_into_id.is_(None))) or 0


def completeness(alumnus: Alumnus | None) -> tuple[int, list[Any]]:
    """Percentage of the profile filled in, and the labels of what is missing."""
    if alumnus is None:
        return 0, list(COMPLETENESS_FIELDS.values())
    missing = [label for field, label in COMPLETENESS_FIELDS.items()
               if not getattr(alumnus, field)]
    filled = len(COMPLETENESS_FIELDS) - len(missing)
    return round(100 * filled / len(COMPLETENESS_FIELDS)), missing


def history(alumnus: Alumnus) -> list[Alumnus]:
    """Records merged into this one (directly or through earlier merges)."""
    return list(db.session.scalars(
        select(Alumnus).where(Alumnus.merged_into_id == alumnus.id).order_by(Alumnus.id)))


# --- merge -------------------------------------------------------------------------------

MERGE_FILL = tuple(f for f in RECORD_FIELDS if f not in (
    "contact_by_email", "directory_visible", "directory_show_email", "notes"))


def merge(source: Alumnus, target: Alumnus, actor: User | None) -> None:
    """Merge `source` into `target`: both rows stay (history); source points to target.

    Empty fields of the target are filled from the source; the account moves to the
    target if only the source has one; other areas move their links through MERGE_HOOKS.
    """
    if source.id == target.id:
        raise AlumniError(_l("A record cannot be merged into itself."))
    if source.merged_into_id or target.merged_into_id:
        raise AlumniError(_l("One of these records was already merged. Merge into the "
                             "record it was merged into."))
    if source.user_id and target.user_id:
        raise AlumniError(_l("Both records have an account. Deactivate one of the two "
                             "accounts first, then unlink it by editing the record."))
    filled = [f for f in MERGE_FILL
              if getattr(target, f) in (None, "") and getattr(source, f) not in (None, "")]
    for field in filled:
        setattr(target, field, getattr(source, field))
    if source.user_id:
        user_id, source.user_id = source.user_id, None
        db.session.flush()  # user_id is unique: free it before the target takes it
        target.user_id = user_id
    target.directory_visible = target.directory_visible or source.directory_visible
    source.merged_into_id = target.id
    source.directory_visible = False
    # Records merged into the source earlier now point at the survivor directly.
    db.session.execute(update(Alumnus).where(Alumnus.merged_into_id == source.id,
                                             Alumnus.id != source.id)
                       .values(merged_into_id=target.id)
                       .execution_options(synchronize_session=False))
    db.session.flush()
    for hook in MERGE_HOOKS:
        hook(source.id, target.id)
    record("alumni.merged", actor=actor, object_type="alumnus", object_id=target.id,
           details={"merged": source.id, "filled": filled})
