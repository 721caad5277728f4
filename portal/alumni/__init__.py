"""Alumni records: import, merge, invitations, profiles and the directory."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Role, User
from portal.alumni import services
from portal.jobs import register_periodic
from portal.registry import register_demo_loader, register_nav, register_section

bp = Blueprint("alumni", __name__)

# View modules, imported by create_app() once every area's services exist.
VIEWS = ["routes", "staff_routes", "import_routes"]


def _dashboard(user: User) -> dict[str, Any]:
    alumnus = services.alumnus_for_user(user)
    percent, missing = services.completeness(alumnus)
    return {"alumnus": alumnus, "percent": percent, "missing": missing}


register_section(Role.ALUMNUS, 10, "alumni/_dashboard.html", _dashboard)
register_nav(_l("My alumni profile"), "alumni.profile", Role.ALUMNUS, order=40)
register_nav(_l("Alumni directory"), "alumni.directory", Role.ALUMNUS, order=41)
register_nav(_l("Alumni"), "alumni.staff_index", Role.STAFF, order=60)
register_demo_loader("portal.alumni.demo.load")
# Invitations go out a batch per minute (see portal.alumni.invitations).
register_periodic("alumni-invitations", "portal.alumni.invitations.send_due")
