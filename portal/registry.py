"""What each area contributes to the portal: dashboard sections, navigation links and
demo records. (Periodic work is registered with `portal.jobs.register_periodic`.)

An area registers a dashboard section for a role (a partial template and a function that
loads its data in a few planned queries) and its navigation links; the dashboard shows
the sections of every role the person holds, the menu only the links their roles allow.
Demo loaders are named by dotted path; `flask demo-data` calls each with the demo people.
This module is a leaf below every area, so areas register themselves from their
blueprint modules without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from portal.roles import Role

if TYPE_CHECKING:
    from portal.accounts.models import User


@dataclass(frozen=True)
class Section:
    role: Role
    order: int
    template: str
    load: Callable[[User], dict[str, Any]]  # (user) -> template context


@dataclass(frozen=True)
class NavLink:
    label: object  # a lazy translated string
    endpoint: str
    roles: tuple[Role, ...]
    order: int = 50
    values: dict[str, Any] = field(default_factory=dict)


SECTIONS: list[Section] = []
NAV: list[NavLink] = []
DEMO_LOADERS: list[str] = []


def register_demo_loader(path: str) -> None:
    if path not in DEMO_LOADERS:
        DEMO_LOADERS.append(path)


def register_section(role: Role, order: int, template: str,
                     load: Callable[[User], dict[str, Any]]) -> None:
    if not any(s.template == template for s in SECTIONS):
        SECTIONS.append(Section(role, order, template, load))


def register_nav(label: object, endpoint: str, *roles: Role, order: int = 50) -> None:
    if not any(n.endpoint == endpoint for n in NAV):
        NAV.append(NavLink(label, endpoint, roles, order))


def sections_for(user: User) -> list[tuple[Section, dict[str, Any]]]:
    mine = sorted((s for s in SECTIONS if user.has_role(s.role)),
                  key=lambda s: (list(Role).index(s.role), s.order))
    return [(s, s.load(user)) for s in mine]


def nav_for(user: User | None) -> list[NavLink]:
    if not user or not user.is_authenticated:  # no user: rendered outside a request (mail)
        return []
    return sorted((n for n in NAV if user.has_role(*n.roles)), key=lambda n: n.order)


# The foundation's own links; areas add theirs from their blueprint modules.
register_nav(_l("People"), "accounts.people", Role.STAFF, order=80)
register_nav(_l("Institutions"), "institutions.index", Role.STAFF, order=81)
register_nav(_l("Outbox"), "admin.outbox", Role.STAFF, order=90)
register_nav(_l("Audit log"), "admin.audit", Role.STAFF, order=91)
register_nav(_l("My institution's people"), "accounts.colleagues", Role.NOMINATOR, order=30)
