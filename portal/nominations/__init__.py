"""Nominations: the institution's workspace (drafts, documents, endorsement, consent,
submission) and the one-time links for heads of institutions and candidates."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Role
from portal.cycles import hooks as cycle_hooks
from portal.jobs import register_periodic
from portal.nominations import dashboard, services
from portal.nominations.labels import field_label
from portal.registry import register_demo_loader, register_nav, register_section

bp = Blueprint("nominations", __name__)
bp.add_app_template_filter(field_label, "field_label")

# View modules, imported by create_app() once every area's services exist.
VIEWS = ["routes", "document_routes", "confirm_routes"]

register_section(Role.NOMINATOR, 10, "nominations/_dashboard.html", dashboard.load)
register_nav(_l("Nominations"), "nominations.index", Role.NOMINATOR, order=20)
register_demo_loader("portal.nominations.demo.load")
register_periodic("nomination-reminders", "portal.nominations.reminders.send_due")
# Cycles (a lower area) ask nominations what they keep of a cycle through these.
cycle_hooks.register(counts=services.nominations_per_cycle,
                     specialty_used=services.specialty_chosen,
                     requirement_used=services.requirement_has_files,
                     rules_changed=services.refresh_cycle)
