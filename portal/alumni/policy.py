"""Who may see and change which alumni records.

Staff see and edit every record. An alumnus edits only the record linked to their own
account (the profile page takes no id, so there is nothing to guess). The directory shows
people who opted in, and of them only what they chose to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from portal.accounts.models import Role
from portal.alumni.models import Alumnus
from portal.alumni.services import Filters, apply_filters


def may_use_directory(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_role(Role.ALUMNUS, Role.STAFF))


def can_edit(user: Any, alumnus: Alumnus) -> bool:
    if not user.is_authenticated:
        return False
    return user.has_role(Role.STAFF) or (
        alumnus.user_id is not None and alumnus.user_id == user.id)


def directory_query(f: Filters) -> Select:
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
