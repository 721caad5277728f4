"""Who may see and change which alumni records.

Staff see and edit every record. An alumnus edits only the record linked to their own
account (the profile page takes no id, so there is nothing to guess). The directory shows
people who opted in, and of them only what they chose to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select

from portal.accounts.models import Role, User
from portal.alumni.models import Alumnus
from portal.alumni.services import Filters, apply_filters
from portal.listing import Page, page_of


def may_use_directory(user: User | None) -> bool:
    return bool(user is not None and user.has_role(Role.ALUMNUS, Role.STAFF))


def can_edit(user: User | None, alumnus: Alumnus) -> bool:
    if user is None:
        return False
    return user.has_role(Role.STAFF) or (
        alumnus.user_id is not None and alumnus.user_id == user.id)


def directory_query(f: Filters) -> Select[tuple[Alumnus]]:
    """People listed in the directory: opted in, not merged away. The name search never
    looks at e-mail addresses (it would reveal hidden ones)."""
    f = Filters(country=f.country, specialty=f.specialty, year=f.year, q=f.q)
    query = select(Alumnus).where(Alumnus.directory_visible.is_(True))
    return apply_filters(query, f, with_email=False).order_by(
        Alumnus.country, Alumnus.name_key, Alumnus.id)


@dataclass(frozen=True)
class DirectoryEntry:
    """What the directory may show of one person; nothing else leaves the database."""

    name: str
    native_name: str
    cycle_year: int | None
    specialty: str
    country: str
    city: str
    institution: str
    position: str
    email: str | None  # only with the person's own opt-in


def directory_entry(alumnus: Alumnus) -> DirectoryEntry:
    return DirectoryEntry(
        name=alumnus.display_name, native_name=alumnus.native_name,
        cycle_year=alumnus.cycle_year, specialty=alumnus.specialty_label,
        country=alumnus.country, city=alumnus.city, institution=alumnus.institution_now,
        position=alumnus.position,
        email=alumnus.email if alumnus.directory_show_email else None,
    )


def directory_page(f: Filters) -> Page[DirectoryEntry]:
    """One page of the directory, as entries (nothing else of a record leaves here)."""
    rows = page_of(directory_query(f), f.page, f.size)
    return Page(items=[directory_entry(a) for a in rows.items], page=rows.page,
                per_page=rows.per_page, has_more=rows.has_more, total=rows.total)
