"""Follow-up events: lectures, demonstrations, seminars and expert visits abroad.

Registration with seats and a waitlist (registration.py), passes and check-in, calendar
files, certificates, feedback, staff lists and exports.
"""

from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Role

bp = Blueprint("events", __name__)

# View modules, imported by create_app() once every area's services exist.
VIEWS = ["filters", "routes", "staff_routes", "checkin_routes", "public_routes"]


def _dashboard(user: Any) -> dict[str, Any]:
    from portal.events.services import dashboard_for

    return dashboard_for(user)


def _merge_hook(from_alumnus_id: int, into_alumnus_id: int) -> None:
    from portal.events.services import move_registrations

    move_registrations(from_alumnus_id, into_alumnus_id)


def _register() -> None:
    from portal.alumni.services import MERGE_HOOKS
    from portal.jobs import register_periodic
    from portal.registry import register_demo_loader, register_nav, register_section

    register_section(Role.ALUMNUS, 20, "events/_dashboard.html", _dashboard)
    register_nav(_l("Events"), "events.index", Role.ALUMNUS, order=40)
    register_nav(_l("Manage events"), "events.staff_index", Role.STAFF, order=60)
    register_periodic("event-reminders", "portal.events.reminders.send_due")
    register_demo_loader("portal.events.demo.load")
    if _merge_hook not in MERGE_HOOKS:
        MERGE_HOOKS.append(_merge_hook)


_register()
