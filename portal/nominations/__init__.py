"""Nominations: the institution's workspace (drafts, documents, endorsement, consent,
submission) and the one-time links for heads of institutions and candidates."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Role
from portal.jobs import register_periodic
from portal.registry import register_demo_loader, register_nav, register_section

bp = Blueprint("nominations", __name__)

# View modules, imported by create_app() once every area's services exist.
VIEWS = ["routes", "document_routes", "confirm_routes"]


def _dashboard(user):  # noqa: ANN001, ANN202
    from portal.nominations.dashboard import load

    return load(user)


register_section(Role.NOMINATOR, 10, "nominations/_dashboard.html", _dashboard)
register_nav(_l("Nominations"), "nominations.index", Role.NOMINATOR, order=20)
register_demo_loader("portal.nominations.demo.load")
register_periodic("nomination-reminders", "portal.nominations.reminders.send_due")
