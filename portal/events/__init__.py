"""Follow-up events: lectures, demonstrations, seminars and expert visits abroad.

Registration with seats and a waitlist (registration.py, lifecycle.py), passes and
check-in, calendar files, certificates, feedback, staff lists and exports. Alumni and
guests see one set of pages (routes.py, viewer.py).

The area registers itself with the lower ones at import time: its dashboard section and
links (portal.registry), its periodic work (portal.jobs), its demo data, and the hook that
moves registrations when alumni records are merged (portal.alumni.services.MERGE_HOOKS).
"""

from __future__ import annotations

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Role
from portal.alumni.services import MERGE_HOOKS
from portal.events.services import move_registrations
from portal.events.viewer import dashboard_for
from portal.jobs import register_periodic
from portal.registry import register_demo_loader, register_nav, register_section

bp = Blueprint("events", __name__)

# View modules, imported by create_app() once every area's services exist.
VIEWS = ["filters", "routes", "staff_routes", "checkin_routes", "public_routes"]

register_section(Role.ALUMNUS, 20, "events/_dashboard.html", dashboard_for)
register_nav(_l("Events"), "events.index", Role.ALUMNUS, order=40)
register_nav(_l("Manage events"), "events.staff_index", Role.STAFF, order=60)
register_periodic("event-reminders", "portal.events.reminders.send_due")
register_demo_loader("portal.events.demo.load")
if move_registrations not in MERGE_HOOKS:
    MERGE_HOOKS.append(move_registrations)
